package org.supplyhub.admin.console;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.config.RunningConfig;

import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The dashboard's interface table: for each running interface, where it listens, today's messages by
 * ACK code, the last message's time and the recent rate. Counts only (ids and codes), from the
 * journal's indexes on {@code received_at}.
 */
@Component
public class InterfaceStats {

    /** One interface; {@code needsAttention} says why a person should look (AR/AE today), or null. */
    public record Row(String id, String description, Integer mllpPort, String httpPath, long aa, long ae, long ar,
                      Instant lastMessage, long last5Minutes, long lastHour, String needsAttention) { }

    private record Counts(long aa, long ae, long ar, long last5, long lastHour) { }

    private final JdbcTemplate jdbc;
    private final RunningConfig config;

    public InterfaceStats(JdbcTemplate jdbc, RunningConfig config) {
        this.jdbc = jdbc;
        this.config = config;
    }

    /** {@code zone}: where "today" starts. */
    public List<Row> all(ZoneId zone) {
        Instant now = Instant.now();
        Instant today = ZonedDateTime.now(zone).toLocalDate().atStartOfDay(zone).toInstant();
        Instant hourAgo = now.minus(Duration.ofHours(1));
        Instant fiveAgo = now.minus(Duration.ofMinutes(5));
        Instant from = today.isBefore(hourAgo) ? today : hourAgo;
        Map<String, Counts> counts = new HashMap<>();
        jdbc.query("select interface_id,"
                        + " sum(case when ack_code = 'AA' and received_at >= ? then 1 else 0 end),"
                        + " sum(case when ack_code = 'AE' and received_at >= ? then 1 else 0 end),"
                        + " sum(case when ack_code = 'AR' and received_at >= ? then 1 else 0 end),"
                        + " sum(case when received_at >= ? then 1 else 0 end),"
                        + " sum(case when received_at >= ? then 1 else 0 end)"
                        + " from message where received_at >= ? group by interface_id",
                rs -> {
                    counts.put(rs.getString(1), new Counts(rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5),
                            rs.getLong(6)));
                }, ts(today), ts(today), ts(today), ts(fiveAgo), ts(hourAgo), ts(from));
        return config.all().stream().map(i -> row(i, counts.getOrDefault(i.id(), new Counts(0, 0, 0, 0, 0)))).toList();
    }

    private Row row(InterfaceDefinition i, Counts c) {
        Timestamp last = jdbc.queryForObject("select max(received_at) from message where interface_id = ?",
                Timestamp.class, i.id());
        String attention = c.ar() > 0 && c.ae() > 0 ? c.ar() + " AR and " + c.ae() + " AE today"
                : c.ar() > 0 ? c.ar() + " AR today" : c.ae() > 0 ? c.ae() + " AE today" : null;
        return new Row(i.id(), i.description(), i.mllpPort(), "/hl7/" + i.id(), c.aa(), c.ae(), c.ar(),
                last == null ? null : last.toInstant(), c.last5(), c.lastHour(), attention);
    }

    private static Timestamp ts(Instant i) {
        return Timestamp.from(i);
    }
}
