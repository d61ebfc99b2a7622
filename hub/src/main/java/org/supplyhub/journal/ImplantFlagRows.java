package org.supplyhub.journal;

import org.supplyhub.journal.crypto.Column;
import org.supplyhub.journal.crypto.JournalKeys;
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

    /** A flag as written: its device's lot, serial and the detail (which names them) sealed. */
    record Row(SupplyUsage.Flag flag, SupplyUsage.Line line, SupplyUsage.Implant device, String lot, String serial,
               String detail) { }

    private ImplantFlagRows() {
    }

    static List<Row> seal(Journal.Entry e, JournalKeys keys) {
        if (e.flags().isEmpty()) {
            return List.of();
        }
        SupplyUsage usage = e.usage();
        List<Row> rows = new java.util.ArrayList<>(e.flags().size());
        for (SupplyUsage.Flag f : e.flags()) {
            SupplyUsage.Line line = usage == null ? null : usage.lines().stream()
                    .filter(l -> l.index() == f.line()).findFirst().orElse(null);
            SupplyUsage.Implant device = line == null || f.device() >= line.implants().size() ? null
                    : line.implants().get(f.device());
            rows.add(new Row(f, line, device,
                    device == null ? null : keys.sealText(Column.FLAG_LOT, Journal.bounded(device.lot(), 200)),
                    device == null ? null : keys.sealText(Column.FLAG_SERIAL, Journal.bounded(device.serial(), 200)),
                    keys.sealText(Column.FLAG_DETAIL, Journal.bounded(f.detail(), 1000))));
        }
        return rows;
    }

    static void insert(Connection con, long[] ids, List<Journal.Sealed> entries) throws SQLException {
        boolean any = false;
        try (PreparedStatement flags = con.prepareStatement(INSERT);
             PreparedStatement audit = con.prepareStatement(AuditLog.INSERT)) {
            for (int i = 0; i < ids.length; i++) {
                Journal.Entry e = entries.get(i).entry();
                for (Row row : entries.get(i).flags()) {
                    SupplyUsage.Flag f = row.flag();
                    SupplyUsage.Line line = row.line();
                    SupplyUsage.Implant device = row.device();
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
                    flags.setString(10, row.lot());
                    flags.setString(11, row.serial());
                    flags.setString(12, Journal.bounded(f.recallNumber(), 200));
                    flags.setString(13, row.detail());
                    flags.setBoolean(14, f.holdCharge());
                    flags.setTimestamp(15, f.identified() == null ? at : Timestamp.from(f.identified().toInstant()));
                    flags.addBatch();
                    AuditLog.bind(audit, at.toInstant(), AuditEvent.of(e.message().caller(), "IMPLANT_FLAG")
                            .interfaceId(e.message().interfaceId()).target("message " + ids[i] + " line " + f.line())
                            .outcome(f.check()).detail(f.reason() + (f.holdCharge() ? ", charge held" : ""))
                            .message(ids[i]).patientKey(entries.get(i).patientKey()));
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
