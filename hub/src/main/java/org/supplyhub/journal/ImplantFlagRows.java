package org.supplyhub.journal;

import org.supplyhub.mapping.SupplyUsage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.List;

/** Writes a message's implant safety flags (V9) and their audit rows, in the journal's transaction. */
final class ImplantFlagRows {

    private static final String INSERT = "insert into implant_flag (message_id, interface_id, line_no, device_no,"
            + " transaction_id, check_name, reason, severity, device_identifier, lot, serial, recall_number, detail,"
            + " hold_charge, status, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'OPEN', ?)";

    private ImplantFlagRows() {
    }

    static void insert(Connection con, long[] ids, List<Journal.Entry> entries, String[] patientKeys) throws SQLException {
        boolean any = false;
        try (PreparedStatement flags = con.prepareStatement(INSERT);
             PreparedStatement audit = con.prepareStatement(AuditLog.INSERT)) {
            for (int i = 0; i < ids.length; i++) {
                Journal.Entry e = entries.get(i);
                if (e.flags().isEmpty()) {
                    continue;
                }
                SupplyUsage usage = e.usage();
                for (SupplyUsage.Flag f : e.flags()) {
                    SupplyUsage.Line line = usage == null ? null : usage.lines().stream()
                            .filter(l -> l.index() == f.line()).findFirst().orElse(null);
                    SupplyUsage.Implant device = line == null || f.device() >= line.implants().size() ? null
                            : line.implants().get(f.device());
                    Timestamp at = Timestamp.from(e.message().receivedAt());
                    flags.setLong(1, ids[i]);
                    flags.setString(2, Journal.bounded(e.message().interfaceId(), 64));
                    flags.setInt(3, f.line());
                    flags.setInt(4, f.device());
                    flags.setString(5, line == null ? null : Journal.bounded(line.transactionId(), 200));
                    flags.setString(6, f.check());
                    flags.setString(7, f.reason());
                    flags.setString(8, f.severity());
                    flags.setString(9, device == null ? null : Journal.bounded(device.deviceIdentifier(), 200));
                    flags.setString(10, device == null ? null : Journal.bounded(device.lot(), 200));
                    flags.setString(11, device == null ? null : Journal.bounded(device.serial(), 200));
                    flags.setString(12, Journal.bounded(f.recallNumber(), 200));
                    flags.setString(13, Journal.bounded(f.detail(), 1000));
                    flags.setBoolean(14, f.holdCharge());
                    flags.setTimestamp(15, f.identified() == null ? at : Timestamp.from(f.identified().toInstant()));
                    flags.addBatch();
                    AuditLog.bind(audit, at.toInstant(), AuditEvent.of(e.message().caller(), "IMPLANT_FLAG")
                            .interfaceId(e.message().interfaceId()).target("message " + ids[i] + " line " + f.line())
                            .outcome(f.check()).detail(f.reason() + (f.holdCharge() ? ", charge held" : ""))
                            .message(ids[i]).patientKey(patientKeys[i]));
                    audit.addBatch();
                    any = true;
                }
            }
            if (any) {
                flags.executeBatch();
                audit.executeBatch();
            }
        }
    }

    /** A reprocessed message's open flags give way to its revision's (which the checks raised afresh). */
    static void supersede(Connection con, long previousId) throws SQLException {
        try (PreparedStatement ps = con.prepareStatement(
                "update implant_flag set status = 'SUPERSEDED' where message_id = ? and status = 'OPEN'")) {
            ps.setLong(1, previousId);
            ps.executeUpdate();
        }
    }
}
