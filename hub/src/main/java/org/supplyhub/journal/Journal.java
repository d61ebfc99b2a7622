package org.supplyhub.journal;

import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.support.GeneratedKeyHolder;
import org.springframework.jdbc.support.KeyHolder;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.util.List;
import java.util.Optional;

/**
 * The message journal. {@link #accept} writes the raw message, its resources and one outbox row per
 * destination in one transaction: the caller answers AA only after it returns.
 */
@Repository
public class Journal {

    private static final String INSERT_MESSAGE = """
            insert into message (interface_id, sender, control_id, dedup_key, message_type, hl7_version, status,
                                 received_at, caller, charset, raw, ack_code, ack, error, usage_json, line_count)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;

    public Journal(JdbcTemplate jdbc, TransactionTemplate tx) {
        this.jdbc = jdbc;
        this.tx = tx;
    }

    /**
     * Journals an accepted message with everything it produced, atomically.
     *
     * @throws DuplicateMessageException if the same sender + control id is already journaled
     */
    public long accept(ReceivedMessage m, String usageJson, int lineCount, List<JournalOutput> outputs,
                       List<String> destinations, String orderingKey) {
        try {
            Long id = tx.execute(status -> {
                long messageId = insertMessage(m, usageJson, lineCount);
                if (!outputs.isEmpty()) {
                    jdbc.batchUpdate("insert into message_output (message_id, line_no, resource_type, resource_id, resource_json)"
                                    + " values (?, ?, ?, ?, ?)", outputs, outputs.size(), (ps, o) -> {
                        ps.setLong(1, messageId);
                        ps.setInt(2, o.lineNo());
                        ps.setString(3, o.resourceType());
                        ps.setString(4, o.resourceId());
                        ps.setString(5, o.json());
                    });
                }
                if (!destinations.isEmpty()) {
                    Timestamp now = Timestamp.from(m.receivedAt());
                    jdbc.batchUpdate("insert into outbox (message_id, destination, ordering_key, status, attempts, created_at,"
                                    + " next_attempt_at) values (?, ?, ?, 'PENDING', 0, ?, ?)", destinations, destinations.size(),
                            (ps, destination) -> {
                                ps.setLong(1, messageId);
                                ps.setString(2, destination);
                                ps.setString(3, orderingKey);
                                ps.setTimestamp(4, now);
                                ps.setTimestamp(5, now);
                            });
                }
                return messageId;
            });
            return id == null ? -1 : id;
        } catch (DuplicateKeyException e) {
            throw new DuplicateMessageException(m.dedupKey());
        }
    }

    /** Journals a message that produced nothing (ERROR or REJECTED). */
    public long record(ReceivedMessage m) {
        try {
            Long id = tx.execute(status -> insertMessage(m, null, 0));
            return id == null ? -1 : id;
        } catch (DuplicateKeyException e) {
            throw new DuplicateMessageException(m.dedupKey());
        }
    }

    /** The ACK originally answered to this sender + control id, for a resend. */
    public Optional<String> originalAck(String dedupKey) {
        List<String> acks = jdbc.queryForList("select ack from message where dedup_key = ?", String.class, dedupKey);
        return acks.stream().findFirst();
    }

    private long insertMessage(ReceivedMessage m, String usageJson, int lineCount) {
        KeyHolder keys = new GeneratedKeyHolder();
        jdbc.update(con -> {
            PreparedStatement ps = con.prepareStatement(INSERT_MESSAGE, new String[] {"id"});
            ps.setString(1, m.interfaceId());
            ps.setString(2, m.sender());
            ps.setString(3, m.controlId());
            ps.setString(4, m.dedupKey());
            ps.setString(5, m.messageType());
            ps.setString(6, m.hl7Version());
            ps.setString(7, m.status().name());
            ps.setTimestamp(8, Timestamp.from(m.receivedAt()));
            ps.setString(9, m.caller());
            ps.setString(10, m.charset());
            ps.setBytes(11, m.raw());
            ps.setString(12, m.ackCode());
            ps.setString(13, m.ack());
            ps.setString(14, truncate(m.error(), 2000));
            ps.setString(15, usageJson);
            ps.setInt(16, lineCount);
            return ps;
        }, keys);
        Number key = keys.getKey();
        if (key == null) {
            throw new IllegalStateException("no id generated for the message");
        }
        return key.longValue();
    }

    private static String truncate(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }

}
