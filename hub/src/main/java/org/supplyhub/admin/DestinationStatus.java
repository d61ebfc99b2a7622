package org.supplyhub.admin;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthContributor;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.delivery.DeliveryHealth;
import org.supplyhub.delivery.DestinationPauses;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Per destination, what an operator looks at: the outbox gauges of {@code OutboxMetrics} (pending,
 * oldest, dead), the worker's health, the pause, the last error and the delivered rate. Shared by
 * {@code GET /api/destinations} and the console's dashboard.
 */
@Component
public class DestinationStatus {

    /**
     * One destination now. {@code lastError} is the outbox's own text (status, ACK code, host; never
     * content), shortened; {@code needsAttention} says why a person should look, or null.
     */
    public record Row(String name, String connector, long pending, long oldestSeconds, long dead, String lastError,
                      long deliveredLast5Minutes, long deliveredLastHour, boolean paused, String pausedBy,
                      Instant pausedAt, String health, String needsAttention) { }

    static final int ERROR_CHARS = 160;

    private final RunningConfig config;
    private final MeterRegistry meters;
    private final DeliveryHealth health;
    private final DestinationPauses pauses;
    private final JdbcTemplate jdbc;
    private final Duration oldestAlert;
    private final AuditLog audit;

    public DestinationStatus(RunningConfig config, MeterRegistry meters, DeliveryHealth health,
                             DestinationPauses pauses, JdbcTemplate jdbc, AuditLog audit,
                             @Value("${hub.console.oldest-pending-alert:5m}") Duration oldestAlert) {
        this.config = config;
        this.meters = meters;
        this.health = health;
        this.pauses = pauses;
        this.jdbc = jdbc;
        this.oldestAlert = oldestAlert;
        this.audit = audit;
    }

    public boolean exists(String destination) {
        return config.findDestination(destination).isPresent();
    }

    /**
     * Pauses or resumes a destination on every node, audited as DESTINATION_PAUSE / DESTINATION_RESUME:
     * whether that changed anything, or empty (audited 404) when no such destination runs.
     */
    public Optional<Boolean> setPaused(String destination, boolean paused, String actor) {
        String action = paused ? "DESTINATION_PAUSE" : "DESTINATION_RESUME";
        if (!exists(destination)) {
            audit.record(AuditEvent.of(actor, action).target("destination " + destination).outcome("404"));
            return Optional.empty();
        }
        boolean changed = pauses.set(destination, paused, actor);
        audit.record(AuditEvent.of(actor, action).target("destination " + destination).outcome("OK")
                .detail(changed ? (paused ? "paused" : "resumed") : "already " + (paused ? "paused" : "running")));
        return Optional.of(changed);
    }

    public List<Row> all() {
        Map<String, DestinationPauses.State> paused = pauses.all();
        Instant now = Instant.now();
        return config.destinations().stream().map(d -> row(d, paused.get(d.name()), now)).toList();
    }

    private Row row(DestinationDefinition d, DestinationPauses.State pause, Instant now) {
        long pending = (long) gauge("hub.outbox.pending", d.name());
        long oldest = (long) gauge("hub.outbox.oldest", d.name());
        long dead = (long) gauge("hub.outbox.dead", d.name());
        String lastError = jdbc.query("select last_error from outbox where destination = ? and status in ('PENDING', 'DEAD')"
                        + " and last_error is not null order by id desc fetch first 1 rows only",
                rs -> rs.next() ? shorten(rs.getString(1)) : null, d.name());
        long last5 = delivered(d.name(), now.minus(Duration.ofMinutes(5)));
        long lastHour = delivered(d.name(), now.minus(Duration.ofHours(1)));
        boolean isPaused = pause != null && pause.paused();
        String state = health(d.name());
        String attention = dead > 0 ? dead + " dead"
                : isPaused ? "paused"
                : oldest > oldestAlert.toSeconds() ? "oldest pending " + oldest + " s"
                : !"UP".equals(state) ? "worker " + state
                : null;
        return new Row(d.name(), d.connector().name().toLowerCase(), pending, oldest, dead, lastError, last5, lastHour,
                isPaused, pause == null ? null : pause.changedBy(), pause == null ? null : pause.changedAt(), state,
                attention);
    }

    private double gauge(String name, String destination) {
        Gauge g = meters.find(name).tag("destination", destination).gauge();
        return g == null ? 0 : g.value();
    }

    private long delivered(String destination, Instant since) {
        Long n = jdbc.queryForObject("select count(*) from outbox where destination = ? and delivered_at >= ?",
                Long.class, destination, Timestamp.from(since));
        return n == null ? 0 : n;
    }

    private String health(String destination) {
        HealthContributor c = health.getContributor(destination);
        if (c instanceof HealthIndicator indicator) {
            Health h = indicator.health();
            return h.getDetails().containsKey("receiverFailingSince") && "UP".equals(h.getStatus().getCode())
                    ? "RECEIVER FAILING" : h.getStatus().getCode();
        }
        return "UNKNOWN";
    }

    static String shorten(String error) {
        if (error == null || error.length() <= ERROR_CHARS) {
            return error;
        }
        return error.substring(0, ERROR_CHARS - 1) + "…";
    }
}
