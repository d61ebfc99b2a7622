package org.supplyhub.delivery;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;
import org.supplyhub.journal.crypto.Column;
import org.supplyhub.journal.crypto.JournalKeys;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Implant safety flags (V9) as operators work them, and the charges they hold.
 *
 * <p>A hold is per line: the message's billing rows carry its other charges as usual (see
 * {@link Payloads#render}), and the held line goes out only when its last holding flag is released.
 * The release then adds one outbox row per billing destination the message had, carrying that line
 * only ({@code outbox.release_line}) under its own idempotency key (DFT MSH-10 is the new row's id;
 * JSON's {@code <destination>-<message>-line-<n>}). The row joins its account's queue at the back,
 * like any new message of the account, so billing sees that account's charges in the order the hub
 * queued them. The flag's status changes and the row is added in one transaction, with the line's
 * flags locked: a release raced by another operator or node adds the row once.
 */
@Repository
public class HeldCharges {

    /** One flag as the admin API shows it: device identity and dates, never patient data. */
    public record Flag(long id, long messageId, String interfaceId, int line, int device, String transactionId,
                       String check, String reason, String severity, String deviceIdentifier, String lot,
                       String serial, String recallNumber, String detail, boolean holdCharge, String status,
                       Instant createdAt, Instant releasedAt, String releasedBy) { }

    /** What a release did: {@code billingRows} are the destinations now owed the held line (empty if still held or none). */
    public record Release(Outcome outcome, Flag flag, List<String> billingRows, String detail) {
        /** NO_BILLING: the line's charge could go nowhere (its destinations are gone or bill no more); nothing changed. */
        public enum Outcome { RELEASED, NOT_FOUND, NOT_OPEN, NO_BILLING }
    }

    private static final String COLUMNS = "id, message_id, interface_id, line_no, device_no, transaction_id,"
            + " check_name, reason, severity, device_identifier, lot, serial, recall_number, detail, hold_charge, status,"
            + " created_at, released_at, released_by";

    /** A flag row with its lot, serial and detail decrypted. */
    private final RowMapper<Flag> flagRow;

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final RunningConfig config;
    private final AuditLog audit;

    public HeldCharges(JdbcTemplate jdbc, TransactionTemplate tx, RunningConfig config, AuditLog audit, JournalKeys keys) {
        this.flagRow = (rs, n) -> new Flag(rs.getLong(1), rs.getLong(2), rs.getString(3),
                rs.getInt(4), rs.getInt(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9),
                rs.getString(10), keys.openText(Column.FLAG_LOT, rs.getString(11)),
                keys.openText(Column.FLAG_SERIAL, rs.getString(12)), rs.getString(13),
                keys.openText(Column.FLAG_DETAIL, rs.getString(14)), rs.getBoolean(15), rs.getString(16),
                rs.getTimestamp(17).toInstant(), rs.getTimestamp(18) == null ? null : rs.getTimestamp(18).toInstant(),
                rs.getString(19));
        this.jdbc = jdbc;
        this.tx = tx;
        this.config = config;
        this.audit = audit;
    }

    /** Flags by status (OPEN, RELEASED, SUPERSEDED; null: any) and interface, newest first. */
    public List<Flag> search(String status, String interfaceId, int limit) {
        StringBuilder sql = new StringBuilder("select " + COLUMNS + " from implant_flag where 1 = 1");
        List<Object> args = new ArrayList<>();
        if (status != null) {
            sql.append(" and status = ?");
            args.add(status.toUpperCase(java.util.Locale.ROOT));
        }
        if (interfaceId != null) {
            sql.append(" and interface_id = ?");
            args.add(interfaceId);
        }
        sql.append(" order by id desc limit ?");
        args.add(limit);
        return jdbc.query(sql.toString(), flagRow, args.toArray());
    }

    public List<Flag> ofMessage(long messageId) {
        return jdbc.query("select " + COLUMNS + " from implant_flag where message_id = ? order by id", flagRow, messageId);
    }

    public Optional<Flag> find(long id) {
        return jdbc.query("select " + COLUMNS + " from implant_flag where id = ?", flagRow, id).stream().findFirst();
    }

    /**
     * Releases an open flag. When it held its line's charge and no other open flag of the line still
     * does, the line's charge is queued for each billing destination of the message, once. The
     * FLAG_RELEASE audit row is written in the same transaction: a release stands only audited. When
     * the held charge could be queued nowhere (the message's billing destinations are gone from the
     * configuration or no longer {@code output: charges}), the release is rolled back (NO_BILLING) and
     * the flag stays open: releasing it would otherwise drop the charge silently.
     */
    public Release release(long id, String actor) {
        Release r = tx.execute(status -> {
            Release done = releaseLocked(id, actor);
            if (done.outcome() == Release.Outcome.NO_BILLING) {
                status.setRollbackOnly();
            } else {
                audit(actor, id, done, true);
            }
            return done;
        });
        if (r.outcome() == Release.Outcome.NO_BILLING) {
            audit(actor, id, r, false); // the refusal, after the rollback that undid the attempt
        }
        return r;
    }

    private void audit(String actor, long id, Release r, boolean inTransaction) {
        String interfaceId = r.flag() == null ? null : r.flag().interfaceId();
        String target = "flag " + id + (r.flag() == null ? "" : " message " + r.flag().messageId() + " line " + r.flag().line());
        AuditEvent event = AuditEvent.of(actor, "FLAG_RELEASE").interfaceId(interfaceId).target(target)
                .outcome(r.outcome().name()).detail(r.detail());
        if (r.flag() != null) {
            event = event.message(r.flag().messageId()); // the access report finds the release by its message
        }
        if (inTransaction) {
            audit.recordInTransaction(event);
        } else {
            audit.record(event);
        }
    }

    private Release releaseLocked(long id, String actor) {
        Optional<Flag> found = find(id);
        if (found.isEmpty()) {
            return new Release(Release.Outcome.NOT_FOUND, null, List.of(), "no flag " + id);
        }
        Flag flag = found.get();
        // the line's flags, locked: two operators releasing its two holds cannot both see the other open
        jdbc.query("select id from implant_flag where message_id = ? and line_no = ? order by id for update",
                (rs, n) -> rs.getLong(1), flag.messageId(), flag.line());
        Timestamp now = Timestamp.from(Instant.now());
        int changed = jdbc.update("update implant_flag set status = 'RELEASED', released_at = ?, released_by = ?"
                + " where id = ? and status = 'OPEN'", now, actor == null ? null : actor.substring(0, Math.min(300, actor.length())), id);
        if (changed != 1) {
            return new Release(Release.Outcome.NOT_OPEN, find(id).orElse(flag), List.of(),
                    "flag " + id + " is " + find(id).map(Flag::status).orElse("gone") + ", not OPEN");
        }
        Flag released = find(id).orElse(flag);
        if (!flag.holdCharge()) {
            return new Release(Release.Outcome.RELEASED, released, List.of(), "released; it held no charge");
        }
        Integer stillHolding = jdbc.queryForObject("select count(*) from implant_flag where message_id = ?"
                + " and line_no = ? and hold_charge = true and status = 'OPEN'", Integer.class, flag.messageId(), flag.line());
        if (stillHolding != null && stillHolding > 0) {
            return new Release(Release.Outcome.RELEASED, released, List.of(), "released; line " + flag.line()
                    + " stays held by " + stillHolding + " other open flag(s)");
        }
        List<String> queued = new ArrayList<>();
        List<String> notBilling = new ArrayList<>();
        for (Map<String, Object> row : jdbc.queryForList("select distinct destination, ordering_key from outbox"
                + " where message_id = ? and release_line is null and status <> 'SUPERSEDED'", flag.messageId())) {
            String destination = (String) row.get("destination");
            Optional<DestinationDefinition> current = config.findDestination(destination);
            if (current.isEmpty() || current.get().output() != DestinationDefinition.Output.CHARGES) {
                notBilling.add(destination + (current.isEmpty() ? " (not configured)" : " (output " + current.get().output() + ")"));
                continue;
            }
            jdbc.update("insert into outbox (message_id, destination, ordering_key, status, attempts, created_at,"
                    + " next_attempt_at, release_line) values (?, ?, ?, 'PENDING', 0, ?, ?, ?)",
                    flag.messageId(), destination, row.get("ordering_key"), now, now, flag.line());
            queued.add(destination);
        }
        if (queued.isEmpty()) {
            return new Release(Release.Outcome.NO_BILLING, flag, List.of(), "flag " + id + " not released: line "
                    + flag.line() + "'s held charge has no billing destination to go to now ("
                    + (notBilling.isEmpty() ? "the message has no delivery rows" : "destinations " + String.join(", ", notBilling))
                    + "); restore the billing destination (output: charges) in the configuration, then release again");
        }
        return new Release(Release.Outcome.RELEASED, released, queued,
                "released; line " + flag.line() + " charge queued for " + String.join(", ", queued));
    }
}
