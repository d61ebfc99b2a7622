package org.supplyhub.admin;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;
import org.supplyhub.journal.MessageStatus;
import org.supplyhub.journal.SearchKeys;
import org.supplyhub.journal.crypto.Column;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.mapping.FhirRenderer;

import java.nio.charset.Charset;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Read side of the journal for the admin API, and the replay of a message's outbox rows. The
 * journal's PHI columns are decrypted here (raw, error, usage, stored outputs); patients and accounts
 * are searched through their keyed hashes. A message's FHIR outputs are rendered from its usage, or
 * read as stored for a message journaled before issue 16.
 */
@Repository
public class MessageQueries {

    public record Summary(long id, String interfaceId, String sender, String controlId, String messageType,
                          String status, Instant receivedAt, String caller, String ackCode, Integer lineCount,
                          String error, Long previousId, Purged purged) { }

    /** The retention purge replaced the message's content with a tombstone: when, and under which setting. */
    public record Purged(Instant at, String reason) { }

    public record Output(int lineNo, String resourceType, String resourceId, String resource) { }

    public record Attempt(int attempt, Instant startedAt, long durationMs, String outcome, String code, String detail) { }

    public record Delivery(long outboxId, String destination, String status, int attempts, Instant nextAttemptAt,
                           Instant deliveredAt, String lastError, List<Attempt> history) { }

    private static final Set<String> STATUSES = Arrays.stream(MessageStatus.values()).map(Enum::name)
            .collect(Collectors.toUnmodifiableSet());
    private static final String SUMMARY = "select id, interface_id, sender, control_id, message_type, status,"
            + " received_at, caller, ack_code, line_count, error, previous_id, purged_at, purge_reason from message";

    private final JdbcTemplate jdbc;
    private final SearchKeys searchKeys;
    private final JournalKeys keys;
    private final FhirRenderer renderer;

    public MessageQueries(JdbcTemplate jdbc, JournalKeys keys, FhirRenderer renderer) {
        this.jdbc = jdbc;
        this.searchKeys = keys;
        this.keys = keys;
        this.renderer = renderer;
    }

    /** The keyed hash a patient identifier is searched and audited by. */
    public String patientKey(String patient) {
        return searchKeys.of(patient);
    }

    /**
     * What to look for; every criterion is optional. {@code patient} and {@code account} are the values
     * as received (PID-3-1, PID-18-1), matched exactly through their keyed hashes. {@code before}: a
     * message id, for the next page (keyset paging, newest first).
     */
    public record Search(String interfaceId, String status, String ackCode, String controlId, Instant since,
                         Instant until, String patient, String account, Long before, int limit) {

        public static Search all(int limit) {
            return new Search(null, null, null, null, null, null, null, null, null, limit);
        }
    }

    /** Newest first, at most {@code limit} (1–500). */
    public List<Summary> search(Search s) {
        StringBuilder sql = new StringBuilder(SUMMARY).append(" where 1 = 1");
        List<Object> args = new ArrayList<>();
        String interfaceId = s.interfaceId();
        String status = s.status();
        String controlId = s.controlId();
        Instant since = s.since();
        Instant until = s.until();
        if (s.ackCode() != null) {
            sql.append(" and ack_code = ?");
            args.add(s.ackCode());
        }
        if (s.patient() != null) {
            sql.append(" and patient_key = ?");
            args.add(searchKeys.of(s.patient()));
        }
        if (s.account() != null) {
            sql.append(" and account_key = ?");
            args.add(searchKeys.of(s.account()));
        }
        if (s.before() != null) {
            sql.append(" and id < ?");
            args.add(s.before());
        }
        if (interfaceId != null) {
            sql.append(" and interface_id = ?");
            args.add(interfaceId);
        }
        if (status != null) {
            if (STATUSES.contains(status)) {
                // a status the hub writes goes in as a literal (no injection: only these names), so that a
                // generic plan too can read the partial index on the rare ones (V16: ERROR and REJECTED)
                sql.append(" and status = '").append(status).append('\'');
            } else {
                sql.append(" and status = ?");
                args.add(status);
            }
        }
        if (controlId != null) {
            sql.append(" and control_id = ?");
            args.add(controlId);
        }
        if (since != null) {
            sql.append(" and received_at >= ?");
            args.add(Timestamp.from(since));
        }
        if (until != null) {
            sql.append(" and received_at < ?");
            args.add(Timestamp.from(until));
        }
        sql.append(" order by id desc fetch first ").append(Math.max(1, Math.min(s.limit(), 500))).append(" rows only");
        return jdbc.query(sql.toString(), (rs, i) -> summary(rs), args.toArray());
    }

    public Optional<Summary> find(long id) {
        return jdbc.query(SUMMARY + " where id = ?", (rs, i) -> summary(rs), id).stream().findFirst();
    }

    /** The bytes as received, decoded with the charset they were read with. */
    public Optional<String> raw(long id) {
        return jdbc.query("select raw, charset from message where id = ?",
                (rs, i) -> new String(keys.open(Column.MESSAGE_RAW, rs.getBytes(1)), Charset.forName(rs.getString(2))),
                id).stream().findFirst();
    }

    /** The canonical usage the message was mapped to (JSON), if it was. */
    public Optional<String> usage(long id) {
        return jdbc.query("select usage_json from message where id = ? and usage_json is not null",
                (rs, i) -> keys.openText(Column.MESSAGE_USAGE, rs.getString(1)), id).stream().findFirst();
    }

    /**
     * The message's FHIR resources: the ones journaled with it by a hub before issue 16 (what was
     * rendered then), else rendered from its usage as its render spec says; none without a usage
     * (not mapped, or purged).
     */
    public List<Output> outputs(long id) {
        List<Output> stored = jdbc.query("select line_no, resource_type, resource_id, resource_json from message_output"
                        + " where message_id = ? order by id",
                (rs, i) -> new Output(rs.getInt(1), rs.getString(2), rs.getString(3),
                        keys.openText(Column.OUTPUT_RESOURCE, rs.getString(4))), id);
        if (!stored.isEmpty()) {
            return stored;
        }
        return usage(id).map(usage -> renderer.render(usage).stream()
                .map(r -> new Output(r.line(), r.resourceType(), r.resourceId(), r.json())).toList()).orElse(List.of());
    }

    public List<Delivery> deliveries(long id) {
        List<Delivery> rows = jdbc.query("select id, destination, status, attempts, next_attempt_at, delivered_at,"
                        + " last_error from outbox where message_id = ? order by id",
                (rs, i) -> new Delivery(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getInt(4), instant(rs, 5),
                        instant(rs, 6), rs.getString(7), List.of()), id);
        return rows.stream().map(d -> new Delivery(d.outboxId(), d.destination(), d.status(), d.attempts(),
                d.nextAttemptAt(), d.deliveredAt(), d.lastError(), jdbc.query(
                        "select attempt, started_at, duration_ms, outcome, code, detail from delivery_attempt"
                                + " where outbox_id = ? order by id",
                        (rs, i) -> new Attempt(rs.getInt(1), instant(rs, 2), rs.getLong(3), rs.getString(4),
                                rs.getString(5), rs.getString(6)), d.outboxId()))).toList();
    }

    /**
     * Makes a message's dead deliveries due again, with a fresh attempt budget and a fresh age (the
     * destination's maxAge counts from the replay). Delivered rows stay
     * delivered: sending them again is what the receivers' de-duplication is for, not a replay's job.
     */
    public int replay(long id, String destination) {
        String sql = "update outbox set status = 'PENDING', attempts = 0, next_attempt_at = ?, replayed_at = ?,"
                + " lease_until = null, last_error = null where message_id = ? and status = 'DEAD'";
        Timestamp now = Timestamp.from(Instant.now());
        return destination == null ? jdbc.update(sql, now, now, id)
                : jdbc.update(sql + " and destination = ?", now, now, id, destination);
    }

    private Summary summary(ResultSet rs) throws SQLException {
        int lines = rs.getInt("line_count");
        Integer lineCount = rs.wasNull() ? null : lines; // wasNull() speaks of the column read last
        long previous = rs.getLong("previous_id");
        Long previousId = rs.wasNull() ? null : previous;
        Instant purgedAt = instant(rs, rs.findColumn("purged_at"));
        return new Summary(rs.getLong("id"), rs.getString("interface_id"), rs.getString("sender"),
                rs.getString("control_id"), rs.getString("message_type"), rs.getString("status"),
                instant(rs, rs.findColumn("received_at")), rs.getString("caller"), rs.getString("ack_code"),
                lineCount, keys.openText(Column.MESSAGE_ERROR, rs.getString("error")), previousId,
                purgedAt == null ? null : new Purged(purgedAt, rs.getString("purge_reason")));
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        Timestamp t = rs.getTimestamp(column);
        return t == null ? null : t.toInstant();
    }
}
