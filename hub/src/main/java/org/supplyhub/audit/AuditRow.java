package org.supplyhub.audit;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;

/**
 * One audit_event row as the chain sees it: every column, and its place in the chain ({@code seq},
 * {@code prevHash}, {@code hash}; null while unsealed).
 */
public record AuditRow(long id, Long seq, Instant at, String actor, String action, String interfaceId, String target,
                       String outcome, String detail, Long messageId, String patientKey, String source, int eventCount,
                       String prevHash, String hash) {

    /** The columns {@link #read} expects, in a select list. */
    static final String COLUMNS = "id, chain_seq, at, actor, action, interface_id, target, outcome, detail,"
            + " message_id, patient_key, source, event_count, prev_hash, hash";

    static AuditRow read(ResultSet rs) throws SQLException {
        return new AuditRow(rs.getLong("id"), nullableLong(rs, "chain_seq"),
                rs.getObject("at", OffsetDateTime.class).toInstant(), rs.getString("actor"), rs.getString("action"),
                rs.getString("interface_id"), rs.getString("target"), rs.getString("outcome"), rs.getString("detail"),
                nullableLong(rs, "message_id"), rs.getString("patient_key"), rs.getString("source"),
                rs.getInt("event_count"), rs.getString("prev_hash"), rs.getString("hash"));
    }

    private static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : value;
    }

    /** The same row placed at {@code seq}. */
    AuditRow at(long newSeq) {
        return new AuditRow(id, newSeq, at, actor, action, interfaceId, target, outcome, detail, messageId, patientKey,
                source, eventCount, prevHash, hash);
    }
}
