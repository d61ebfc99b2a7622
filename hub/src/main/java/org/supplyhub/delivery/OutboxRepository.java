package org.supplyhub.delivery;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Outbox rows as delivery sees them. A claim leases due rows to one worker: on PostgreSQL with
 * {@code FOR UPDATE SKIP LOCKED}, so workers on several nodes never take the same row; a lease that
 * runs out (the node died mid-send) makes the row due again. Only the oldest pending row of each
 * ordering key (patient account) is ever due, so an account's rows go out in order, and one account
 * waiting on a retry never holds up the others.
 */
@Repository
public class OutboxRepository {

    /** A leased outbox row. {@code attempt} counts this one. */
    public record Claimed(long id, long messageId, String orderingKey, int attempt, Instant createdAt) { }

    /**
     * Due rows that head their account's queue: the oldest pending row of each ordering key. The
     * conditions on {@code o} itself (status included) are what PostgreSQL re-checks on the newest
     * version of a row it had to wait for: without {@code o.status} a row another node delivered a
     * moment ago would pass the re-check and go out twice.
     */
    private static final String DUE = """
            o.id in (select min(h.id) from outbox h where h.destination = ? and h.status = 'PENDING'
                     group by h.ordering_key)
              and o.status = 'PENDING' and o.next_attempt_at <= ? and (o.lease_until is null or o.lease_until < ?)""";

    private static final RowMapper<Claimed> CLAIMED = (rs, n) -> new Claimed(rs.getLong("id"), rs.getLong("message_id"),
            rs.getString("ordering_key"), rs.getInt("attempts"), rs.getTimestamp("created_at").toInstant());

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final boolean postgres;

    public OutboxRepository(JdbcTemplate jdbc, TransactionTemplate tx, DataSource dataSource) throws SQLException {
        this.jdbc = jdbc;
        this.tx = tx;
        try (Connection c = dataSource.getConnection()) {
            this.postgres = c.getMetaData().getDatabaseProductName().toLowerCase().contains("postgres");
        }
    }

    public List<Claimed> claim(String destination, int max, Duration lease) {
        Timestamp now = Timestamp.from(Instant.now());
        Timestamp until = Timestamp.from(Instant.now().plus(lease));
        if (postgres) {
            return jdbc.query("update outbox set lease_until = ?, attempts = attempts + 1 where status = 'PENDING' and id in ("
                    + " select o.id from outbox o where " + DUE + " order by o.id limit ? for update skip locked)"
                    + " returning id, message_id, ordering_key, attempts, created_at", CLAIMED,
                    until, destination, now, now, max);
        }
        // H2 (embedded, one node): pick candidates, then lease each with a guarded update
        List<Claimed> claimed = new ArrayList<>();
        tx.executeWithoutResult(status -> {
            List<Long> ids = jdbc.queryForList("select o.id from outbox o where " + DUE + " order by o.id limit ?",
                    Long.class, destination, now, now, max);
            for (Long id : ids) {
                int updated = jdbc.update("update outbox set lease_until = ?, attempts = attempts + 1 where id = ?"
                        + " and status = 'PENDING' and (lease_until is null or lease_until < ?)", until, id, now);
                if (updated == 1) {
                    claimed.addAll(jdbc.query("select id, message_id, ordering_key, attempts, created_at from outbox"
                            + " where id = ?", CLAIMED, id));
                }
            }
        });
        return claimed;
    }

    public void delivered(long id) {
        jdbc.update("update outbox set status = 'DELIVERED', delivered_at = ?, lease_until = null, last_error = null"
                + " where id = ?", Timestamp.from(Instant.now()), id);
    }

    public void retryAt(long id, Instant next, String error) {
        jdbc.update("update outbox set next_attempt_at = ?, lease_until = null, last_error = ? where id = ?",
                Timestamp.from(next), truncate(error), id);
    }

    public void dead(long id, String error) {
        jdbc.update("update outbox set status = 'DEAD', lease_until = null, last_error = ? where id = ?",
                truncate(error), id);
    }

    public void attempt(long outboxId, int attempt, Instant started, long durationMs, String outcome, String code,
                        String detail) {
        jdbc.update("insert into delivery_attempt (outbox_id, attempt, started_at, duration_ms, outcome, code, detail)"
                + " values (?, ?, ?, ?, ?, ?, ?)", outboxId, attempt, Timestamp.from(started), durationMs, outcome, code,
                truncate(detail));
    }

    /** The canonical usage a message was mapped to. */
    public String usageJson(long messageId) {
        return jdbc.queryForObject("select usage_json from message where id = ?", String.class, messageId);
    }

    /** The FHIR resources journaled for a message, in the order they were produced. */
    public List<String> resources(long messageId) {
        return jdbc.queryForList("select resource_json from message_output where message_id = ? order by id",
                String.class, messageId);
    }

    private static String truncate(String s) {
        return s == null || s.length() <= 2000 ? s : s.substring(0, 2000);
    }
}
