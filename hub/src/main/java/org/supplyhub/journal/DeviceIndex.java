package org.supplyhub.journal;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;
import org.supplyhub.journal.crypto.Column;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.safety.ImplantHistory;
import org.supplyhub.safety.recall.DeviceIdentifiers;

import java.sql.Connection;
import java.sql.Date;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * The device index ({@code device_use}, V8): which patient received which device, by DI and lot or
 * serial. Written by the {@link Journal} in each accepted message's transaction; read here for the
 * traceability query and as the {@link ImplantHistory} the implant checks use.
 *
 * <p>{@code lot}, {@code serial}, {@code patient_value} and {@code account} are encrypted (V13); lookups
 * go through keyed hashes of the comparable form ({@code lot_key}, {@code serial_key}) and patients are
 * compared by their V10 patient key, so the equality lookups this index does keep their indexes.
 */
@Repository
public class DeviceIndex implements ImplantHistory {

    private static final String INSERT = "insert into device_use (message_id, interface_id, line_no, device_no, kind,"
            + " di, lot, serial, udi_issuer, expiry, item_id, patient_system, patient_value, account, service_date,"
            + " lot_key, serial_key, patient_key) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
    private static final String COLUMNS = "select id, message_id, interface_id, line_no, device_no, kind, di, lot, serial,"
            + " udi_issuer, expiry, item_id, patient_system, patient_value, account, service_date from device_use";

    /** What the traceability query asks: a DI, and a lot, a serial, both or neither (every use of the DI). */
    public record Query(String deviceIdentifier, String lot, String serial) {
        public Query {
            deviceIdentifier = DeviceIdentifiers.normalize(deviceIdentifier);
            lot = DeviceIdentifiers.production(lot);
            serial = DeviceIdentifiers.production(serial);
            if (deviceIdentifier == null) {
                throw new IllegalArgumentException("a device identifier is required");
            }
        }
    }

    /** One use of a device: on whom, in which message and line, when, and the device as indexed. */
    public record Use(long id, long messageId, String interfaceId, int line, int device, String kind,
                      String deviceIdentifier, String lot, String serial, String udiIssuer, LocalDate expiry,
                      String itemId, String patientSystem, String patientValue, String account,
                      OffsetDateTime serviceDate) { }

    /** A device row as written: its PHI sealed and its lookup keys computed before the transaction. */
    record Row(DeviceUse use, String lot, String serial, String patientValue, String account, String lotKey,
               String serialKey, String patientKey) { }

    private final JdbcTemplate jdbc;
    private final JournalKeys keys;

    public DeviceIndex(JdbcTemplate jdbc, JournalKeys keys) {
        this.jdbc = jdbc;
        this.keys = keys;
    }

    /** The keyed hash a lot is looked up by (of its comparable form). */
    static String lotKey(JournalKeys keys, String lot) {
        return keys.keyOf("lot", DeviceIdentifiers.production(lot));
    }

    static String serialKey(JournalKeys keys, String serial) {
        return keys.keyOf("serial", DeviceIdentifiers.production(serial));
    }

    /**
     * How a lot or serial is named in the audit trail: {@code lot#} or {@code serial#} and the first 16
     * hex digits of its keyed hash, never the value (an implant serial identifies its patient).
     */
    public String auditTerm(String kind, String value) {
        String key = switch (kind) {
            case "lot" -> lotKey(keys, value);
            case "serial" -> serialKey(keys, value);
            default -> keys.keyOf(kind, value.trim());
        };
        return key == null ? null : kind + "#" + key.substring(0, 16);
    }

    static List<Row> seal(Journal.Entry e, JournalKeys keys, String patientKey) {
        if (e.devices().isEmpty() || e.message().status() != MessageStatus.ACCEPTED) {
            return List.of();
        }
        List<Row> rows = new ArrayList<>(e.devices().size());
        for (DeviceUse d : e.devices()) {
            rows.add(new Row(d, keys.sealText(Column.DEVICE_LOT, Journal.bounded(d.lot(), 100)),
                    keys.sealText(Column.DEVICE_SERIAL, Journal.bounded(d.serial(), 100)),
                    keys.sealText(Column.DEVICE_PATIENT, Journal.bounded(d.patientValue(), 200)),
                    keys.sealText(Column.DEVICE_ACCOUNT, Journal.bounded(d.account(), 200)),
                    lotKey(keys, d.lot()), serialKey(keys, d.serial()),
                    d.patientValue() == null ? null : keys.of(d.patientValue())));
        }
        return rows;
    }

    /**
     * Uses matching the query, in journal order, after the use with id {@code after} (0: from the first),
     * at most {@code limit}: one index range scan on (di, lot, id) or (di, serial, id).
     */
    public List<Use> find(Query q, long after, int limit) {
        StringBuilder sql = new StringBuilder(COLUMNS).append(" where di = ?");
        List<Object> args = new ArrayList<>(List.of(q.deviceIdentifier()));
        if (q.lot() != null) {
            sql.append(" and lot_key = ?");
            args.add(lotKey(keys, q.lot()));
        }
        if (q.serial() != null) {
            sql.append(" and serial_key = ?");
            args.add(serialKey(keys, q.serial()));
        }
        sql.append(" and id > ? order by id fetch first ").append(Math.max(1, limit)).append(" rows only");
        args.add(after);
        return jdbc.query(sql.toString(), (rs, i) -> use(rs), args.toArray());
    }

    /**
     * Earlier charged uses of this serial that no credit reversed. device_use keeps no link from a credit
     * to its charge (FT1 carries no original transaction id the index stores), so a charge counts as
     * reversed when a later credit (higher id) names the same DI, serial and patient: a device charged to
     * A, credited (returned) and then charged to B is one implant, in B.
     *
     * <p>Uses of the same patient (key and identifier system) at the same service time are one implantation
     * reported again (a sender's duplicates, a second feed): only the first two messages of each are listed
     * (one row a message), two so that one is left when the other is the message being mapped again. What the implant checks conclude is
     * the same (they tell uses apart by patient and service time alone), and a serial reported thousands of
     * times no longer costs every later message a read and a decryption of each report (issue 16: the
     * benchmark's one serial made the check linear in the journal's size).
     */
    @Override
    public List<PriorImplant> implantsOf(String deviceIdentifier, String serial) {
        String di = DeviceIdentifiers.normalize(deviceIdentifier);
        String s = DeviceIdentifiers.production(serial);
        if (di == null || s == null) {
            return List.of();
        }
        // one row per message of an implantation, then at most two messages of it: when one is the message
        // being checked again, the other still reports it
        return jdbc.query("select message_id, interface_id, patient_system, patient_value, service_date from ("
                        + " select m.*, row_number() over (partition by m.patient_key, m.patient_system, m.service_date"
                        + " order by m.id) as report_no from ("
                        + " select c.id, c.message_id, c.interface_id, c.patient_system, c.patient_value, c.service_date,"
                        + " c.patient_key, row_number() over (partition by c.message_id, c.patient_key, c.patient_system,"
                        + " c.service_date order by c.id) as in_message from device_use c"
                        + " where di = ? and serial_key = ? and kind = 'CHARGE' and not exists (select 1 from device_use r"
                        + " where r.di = c.di and r.serial_key = c.serial_key and r.kind = 'CREDIT' and r.id > c.id"
                        + " and r.patient_key is not distinct from c.patient_key"
                        + " and (r.patient_system is null or c.patient_system is null or r.patient_system = c.patient_system))"
                        + ") m where in_message = 1) u where report_no <= 2 order by service_date, id",
                (rs, i) -> new PriorImplant(rs.getLong(1), rs.getString(2), rs.getString(3),
                        keys.openText(Column.DEVICE_PATIENT, rs.getString(4)), offset(rs.getTimestamp(5))),
                di, serialKey(keys, s));
    }

    /** The entries' device rows, in the journal's transaction: one batch for the group. */
    static void insert(Connection con, List<Journal.Sealed> entries, long[] ids) throws SQLException {
        PreparedStatement ps = null;
        try {
            for (int i = 0; i < ids.length; i++) {
                Journal.Entry e = entries.get(i).entry();
                if (entries.get(i).devices().isEmpty()) {
                    continue;
                }
                if (ps == null) {
                    ps = con.prepareStatement(INSERT);
                }
                for (Row row : entries.get(i).devices()) {
                    DeviceUse d = row.use();
                    ps.setLong(1, ids[i]);
                    ps.setString(2, Journal.bounded(e.message().interfaceId(), 64));
                    ps.setInt(3, d.lineNo());
                    ps.setInt(4, d.deviceNo());
                    ps.setString(5, d.kind() == null ? "CHARGE" : d.kind().name());
                    ps.setString(6, Journal.bounded(d.deviceIdentifier(), 100));
                    ps.setString(7, row.lot());
                    ps.setString(8, row.serial());
                    ps.setString(9, Journal.bounded(d.udiIssuer(), 100));
                    if (d.expiry() == null) {
                        ps.setNull(10, Types.DATE);
                    } else {
                        ps.setDate(10, Date.valueOf(d.expiry()));
                    }
                    ps.setString(11, Journal.bounded(d.itemId(), 100));
                    ps.setString(12, Journal.bounded(d.patientSystem(), 300));
                    ps.setString(13, row.patientValue());
                    ps.setString(14, row.account());
                    if (d.serviceDate() == null) {
                        ps.setNull(15, Types.TIMESTAMP_WITH_TIMEZONE);
                    } else {
                        ps.setTimestamp(15, Timestamp.from(d.serviceDate().toInstant()));
                    }
                    ps.setString(16, row.lotKey());
                    ps.setString(17, row.serialKey());
                    ps.setString(18, row.patientKey());
                    ps.addBatch();
                }
            }
            if (ps != null) {
                ps.executeBatch();
            }
        } finally {
            if (ps != null) {
                ps.close();
            }
        }
    }

    private Use use(ResultSet rs) throws SQLException {
        Date expiry = rs.getDate("expiry");
        return new Use(rs.getLong("id"), rs.getLong("message_id"), rs.getString("interface_id"), rs.getInt("line_no"),
                rs.getInt("device_no"), rs.getString("kind"), rs.getString("di"),
                keys.openText(Column.DEVICE_LOT, rs.getString("lot")),
                keys.openText(Column.DEVICE_SERIAL, rs.getString("serial")), rs.getString("udi_issuer"),
                expiry == null ? null : expiry.toLocalDate(), rs.getString("item_id"), rs.getString("patient_system"),
                keys.openText(Column.DEVICE_PATIENT, rs.getString("patient_value")),
                keys.openText(Column.DEVICE_ACCOUNT, rs.getString("account")), offset(rs.getTimestamp("service_date")));
    }

    private static OffsetDateTime offset(Timestamp t) {
        Instant at = t == null ? null : t.toInstant();
        return at == null ? null : at.atOffset(ZoneOffset.UTC);
    }
}
