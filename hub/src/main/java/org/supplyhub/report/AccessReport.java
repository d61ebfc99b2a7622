package org.supplyhub.report;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;
import org.supplyhub.journal.SearchKeys;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;

/**
 * Who touched one patient's data: the audit events that name the patient (by its keyed hash: patient
 * searches, reports) or one of the patient's messages (reads, replays, reprocesses, releases, device
 * searches that listed it). Ingests are the sender's writes, not accesses, and are left out.
 */
@Repository
public class AccessReport {

    /** One access: who, when, what, from where. */
    public record Event(long id, Instant at, String actor, String action, String interfaceId, String target,
                        String outcome, String detail, Long messageId, String source) { }

    /** The events found, oldest first; {@code truncated}: there were more than the limit. */
    public record Result(List<Event> events, boolean truncated) { }

    private static final String COLUMNS = "a.id, a.at, a.actor, a.action, a.interface_id, a.target, a.outcome,"
            + " a.detail, a.message_id, a.source";
    private static final String WINDOW = " and a.action <> 'INGEST' and a.at >= ? and a.at < ?";
    // two indexed halves (ix_audit_patient, ix_audit_message) rather than one OR no index serves
    private static final String QUERY = "select " + COLUMNS + " from audit_event a where a.patient_key = ?" + WINDOW
            + " union select " + COLUMNS + " from audit_event a join message m on m.id = a.message_id"
            + " where m.patient_key = ?" + WINDOW + " order by 2, 1";

    private final JdbcTemplate jdbc;
    private final SearchKeys searchKeys;

    public AccessReport(JdbcTemplate jdbc, SearchKeys searchKeys) {
        this.jdbc = jdbc;
        this.searchKeys = searchKeys;
    }

    /** The keyed hash the patient identifier (PID-3-1 as received) is stored and audited by. */
    public String keyOf(String patient) {
        return searchKeys.of(patient);
    }

    /** Events from {@code since} (inclusive) to {@code until} (exclusive), at most {@code max}. */
    public Result find(String patientKey, Instant since, Instant until, int max) {
        Timestamp from = Timestamp.from(since);
        Timestamp to = Timestamp.from(until);
        List<Event> events = jdbc.query(con -> {
            var ps = con.prepareStatement(QUERY);
            ps.setString(1, patientKey);
            ps.setTimestamp(2, from);
            ps.setTimestamp(3, to);
            ps.setString(4, patientKey);
            ps.setTimestamp(5, from);
            ps.setTimestamp(6, to);
            ps.setMaxRows(max + 1);
            return ps;
        }, (rs, i) -> event(rs));
        boolean truncated = events.size() > max;
        return new Result(truncated ? List.copyOf(events.subList(0, max)) : events, truncated);
    }

    private static Event event(ResultSet rs) throws SQLException {
        long id = rs.getLong(9);
        Long messageId = rs.wasNull() ? null : id; // wasNull() speaks of the column read last
        return new Event(rs.getLong(1), rs.getTimestamp(2).toInstant(), rs.getString(3), rs.getString(4),
                rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), messageId, rs.getString(10));
    }
}
