package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.supplyhub.config.ConfigParticipant;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.RunningConfig;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * Per destination, what an operator alerts on: rows waiting ({@code hub.outbox.pending}), how long
 * the oldest has waited ({@code hub.outbox.oldest}, seconds) and dead rows waiting for a replay
 * ({@code hub.outbox.dead}). Read from the database, so every node reports the whole outbox; a
 * scrape reuses a reading younger than {@link #FRESH} instead of querying again.
 */
@Component
public class OutboxMetrics implements ConfigParticipant {

    private static final Duration FRESH = Duration.ofSeconds(5);

    private record Reading(long pending, double oldestSeconds, long dead, Instant at) { }

    private final JdbcTemplate jdbc;
    private final MeterRegistry meters;
    private final Map<String, Reading> readings = new ConcurrentHashMap<>();
    private final java.util.Set<String> gauged = ConcurrentHashMap.newKeySet();

    public OutboxMetrics(JdbcTemplate jdbc, RunningConfig catalog, MeterRegistry meters) {
        this.jdbc = jdbc;
        this.meters = meters;
        activate(catalog.catalog());
    }

    /** Gauges for the destinations a reload added (a removed one keeps reporting its rows left behind). */
    @Override
    public void activate(InterfaceCatalog next) {
        for (DestinationDefinition d : next.destinations()) {
            if (!gauged.add(d.name())) {
                continue;
            }
            gauge(meters, "hub.outbox.pending", d.name(), "rows not yet delivered", null, Reading::pending);
            gauge(meters, "hub.outbox.oldest", d.name(), "age of the oldest row not yet delivered", "seconds",
                    Reading::oldestSeconds);
            gauge(meters, "hub.outbox.dead", d.name(), "dead rows, waiting for a replay", null, Reading::dead);
        }
    }

    private void gauge(MeterRegistry meters, String name, String destination, String description, String unit,
                       ToDoubleFunction<Reading> value) {
        Gauge.builder(name, this, m -> value.applyAsDouble(m.reading(destination)))
                .tag("destination", destination).description(description).baseUnit(unit).register(meters);
    }

    private Reading reading(String destination) {
        Reading last = readings.get(destination);
        if (last != null && last.at().plus(FRESH).isAfter(Instant.now())) {
            return last;
        }
        // walks the index on (destination, status, …): the rows not delivered, never the history
        Reading fresh = jdbc.queryForObject("select coalesce(sum(case when status = 'PENDING' then 1 else 0 end), 0),"
                + " min(case when status = 'PENDING' then created_at end),"
                + " coalesce(sum(case when status = 'DEAD' then 1 else 0 end), 0)"
                + " from outbox where destination = ? and status in ('PENDING', 'DEAD')", (rs, n) -> {
                    Timestamp oldest = rs.getTimestamp(2);
                    Instant now = Instant.now();
                    return new Reading(rs.getLong(1),
                            oldest == null ? 0 : Duration.between(oldest.toInstant(), now).toMillis() / 1000.0,
                            rs.getLong(3), now);
                }, destination);
        readings.put(destination, fresh);
        return fresh;
    }
}
