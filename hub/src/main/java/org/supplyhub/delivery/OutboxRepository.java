package org.supplyhub.delivery;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.core.RowMapper;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;
import org.supplyhub.journal.crypto.Column;
import org.supplyhub.journal.crypto.JournalKeys;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Outbox rows as delivery sees them. A claim leases due rows to one worker: on PostgreSQL with
 * {@code FOR UPDATE SKIP LOCKED}, so workers on several nodes never take the same row; a lease that
 * runs out (the node died mid-send) makes the row due again. Only the oldest pending row of each
 * ordering key (patient account) is ever due, so an account's rows go out in order, and one account
 * waiting on a retry never holds up the others.
 * <p>
 * Round trips are per claim, not per row: the claim brings each row's canonical usage along (and
 * journals attempts lost with an expired lease, in the same statement), and a claim's outcomes are
 * settled (row status and attempt journal) in one transaction, or a few when some sends are slow.
 */
@Repository
public class OutboxRepository {

    /**
     * A leased outbox row and the usage it delivers. {@code attempt} counts this one; {@code dueSince}
     * is when it was journaled, or replayed: what the destination's maxAge is measured from.
     * {@code storedUsage} is the usage JSON as stored (sealed when encryption is on): it is opened by the
     * worker for this row alone ({@link #openUsage}), so one value that cannot be decrypted fails its
     * row, never the claim.
     */
    public record Claimed(long id, long messageId, String orderingKey, int attempt, Instant dueSince,
                          String storedUsage, Integer releaseLine) {

        public Claimed(long id, long messageId, String orderingKey, int attempt, Instant dueSince, String storedUsage) {
            this(id, messageId, orderingKey, attempt, dueSince, storedUsage, null);
        }
    }

    /** How one attempt ended, to be settled with the rest of its claim. */
    public record Settlement(Claimed row, Instant started, long durationMs, Outcome outcome, String code,
                             String detail, Instant retryAt) {

        public static Settlement delivered(Claimed row, Instant started, long ms, String code) {
            return new Settlement(row, started, ms, Outcome.DELIVERED, code, null, null);
        }
    }

    public enum Outcome { DELIVERED, RETRY, DEAD }

    /**
     * The journal's outcome for an attempt whose lease ran out before it was settled (the node
     * stopped, or lost the database, mid-attempt): written when the row is claimed again, so
     * {@code outbox.attempts} and the rows in {@code delivery_attempt} always agree. Its
     * {@code started_at} is the lease's end minus the lease (when it was claimed, as near as known).
     */
    public static final String LOST = "LOST";
    private static final String LOST_DETAIL = "lease expired before the attempt was settled: the node stopped or"
            + " lost the database mid-attempt; whether the receiver got it is unknown (the retry carries the same key)";

    /**
     * Account heads among the destination's oldest pending rows. Every pending row older than a
     * window row is in the window, so a key's first row there has no older pending row: it heads
     * its account. Reading the window costs about its size, whatever the backlog.
     */
    private static final String HEADS_IN_WINDOW = """
            select r.id from (select w.id, row_number() over (partition by w.ordering_key order by w.id) as rn
                              from (select h.id, h.ordering_key from outbox h where h.destination = ?
                                    and h.status = 'PENDING' order by h.id limit ?) w) r
             where r.rn = 1""";

    /** Every account's head: the oldest pending row of each ordering key. Costs the whole backlog. */
    private static final String ALL_HEADS = """
            select min(h.id) from outbox h where h.destination = ? and h.status = 'PENDING' group by h.ordering_key""";

    /**
     * Candidates that are due. The conditions on {@code o} itself (status included) are what
     * PostgreSQL re-checks on the newest version of a row it had to wait for: without
     * {@code o.status} a row another node delivered a moment ago would pass the re-check and go out
     * twice.
     */
    private static final String DUE = """
            o.status = 'PENDING' and o.next_attempt_at <= ? and (o.lease_until is null or o.lease_until < ?)""";

    /** How many of the oldest pending rows a claim looks through first, per row it may claim. */
    private static final int WINDOW_PER_ROW = 10;

    /** The claimed row with its usage as stored (opened per row by the worker, outside the claim). */
    private final RowMapper<Claimed> claimedRow;

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final JournalKeys keys;
    private final boolean postgres;

    public OutboxRepository(JdbcTemplate jdbc, TransactionTemplate tx, DataSource dataSource, JournalKeys keys)
            throws SQLException {
        this.jdbc = jdbc;
        this.tx = tx;
        this.keys = keys;
        this.claimedRow = (rs, n) -> new Claimed(rs.getLong("id"), rs.getLong("message_id"),
                rs.getString("ordering_key"), rs.getInt("attempts"), rs.getTimestamp("due_since").toInstant(),
                rs.getString("usage_json"), (Integer) rs.getObject("release_line"));
        try (Connection c = dataSource.getConnection()) {
            this.postgres = c.getMetaData().getDatabaseProductName().toLowerCase().contains("postgres");
        }
    }

    /**
     * Leases up to {@code max} due account heads. The oldest pending rows are looked through first;
     * only if none of their heads is due (a window full of accounts waiting on retries, say) is the
     * whole backlog searched, so a failing account never holds up the others.
     */
    public List<Claimed> claim(String destination, int max, Duration lease) {
        return claimDue(destination, max, lease).rows();
    }

    /**
     * A claim's rows, and whether more rows are due at once: the claim was full, or rows of its
     * accounts wait behind the ones it took (among the oldest pending rows it looked through).
     * Without more, a worker lets new rows gather for a moment instead of claiming them one by one
     * as intake adds them.
     */
    public record Claim(List<Claimed> rows, boolean more) { }

    /** As {@link #claim}, telling whether more rows are due right away. */
    public Claim claimDue(String destination, int max, Duration lease) {
        Claim claimed = postgres ? claimWindowPostgres(destination, max, lease)
                : claim(HEADS_IN_WINDOW, List.of(destination, max * WINDOW_PER_ROW), max, lease, destination);
        if (!claimed.rows().isEmpty()) {
            return claimed;
        }
        // the window's accounts all wait (on retries, say): heads found beyond it mean a backlog, so keep
        // draining back to back rather than a few heads a tick
        List<Claimed> all = claim(ALL_HEADS, List.of(destination), max, lease, null).rows();
        return new Claim(all, !all.isEmpty());
    }

    /**
     * The window claim on PostgreSQL in one statement, which also counts the window's rows of the
     * accounts it claimed: more than it took means those accounts have rows due next.
     */
    private Claim claimWindowPostgres(String destination, int max, Duration lease) {
        Timestamp now = Timestamp.from(Instant.now());
        Timestamp until = Timestamp.from(Instant.now().plus(lease));
        int[] queued = {0};
        int[] window = {0};
        List<Claimed> rows = jdbc.query("with w as (select h.id, h.ordering_key from outbox h where h.destination = ?"
                + " and h.status = 'PENDING' order by h.id limit ?),"
                + " heads as (select r.id from (select w.id, row_number() over (partition by w.ordering_key order by w.id)"
                + " as rn from w) r where r.rn = 1),"
                + " c as (select o.id, o.attempts, o.lease_until from outbox o where o.id in (select id from heads) and "
                + DUE + " order by o.id limit ? for update of o skip locked),"
                + LOST_INSERT + ","
                + " u as (" + LEASE_UPDATE + ")"
                + " select u.*, (select count(*) from w where exists (select 1 from u u2"
                + " where u2.ordering_key is not distinct from w.ordering_key)) as queued,"
                + " (select count(*) from w) as window_rows"
                + " from u", (rs, n) -> {
                    queued[0] = rs.getInt("queued");
                    window[0] = rs.getInt("window_rows");
                    return claimedRow.mapRow(rs, n);
                }, destination, max * WINDOW_PER_ROW, now, now, max, lease.toMillis(), until);
        rows = new ArrayList<>(rows);
        rows.sort(java.util.Comparator.comparingLong(Claimed::id));
        return new Claim(rows, !rows.isEmpty() && (rows.size() >= max || queued[0] > rows.size()
                || window[0] >= max * WINDOW_PER_ROW));
    }

    /** Journals the attempts that were lost with an expired lease (CTE {@code lost} over {@code c}). */
    private static final String LOST_INSERT = " lost as (insert into delivery_attempt (outbox_id, attempt, started_at,"
            + " duration_ms, outcome, code, detail) select c.id, c.attempts, c.lease_until - ? * interval '1 millisecond', 0, '"
            + LOST + "', 'LEASE', '" + LOST_DETAIL + "' from c where c.lease_until is not null and c.attempts > 0)";

    /** Leases the rows of CTE {@code c} and brings their usage. */
    private static final String LEASE_UPDATE = "update outbox set lease_until = ?, attempts = outbox.attempts + 1 from c, message m"
            + " where outbox.id = c.id and m.id = outbox.message_id and outbox.status = 'PENDING'"
            + " returning outbox.id, outbox.message_id, outbox.ordering_key, outbox.attempts,"
            + " coalesce(outbox.replayed_at, outbox.created_at) as due_since, m.usage_json, outbox.release_line";

    /** {@code windowOf}: the destination whose window to count on H2 (null for the whole-backlog claim). */
    private Claim claim(String heads, List<Object> headArgs, int max, Duration lease, String windowOf) {
        Timestamp now = Timestamp.from(Instant.now());
        Timestamp until = Timestamp.from(Instant.now().plus(lease));
        List<Object> args = new ArrayList<>(headArgs);
        args.addAll(List.of(now, now, max));
        if (postgres) {
            // one statement: lock the due rows, journal the attempts that were lost with an expired
            // lease, lease the rows, and bring their usage
            args.add(lease.toMillis());
            args.add(until);
            List<Claimed> rows = jdbc.query("with c as (select o.id, o.attempts, o.lease_until from outbox o where o.id in ("
                    + heads + ") and " + DUE + " order by o.id limit ? for update of o skip locked)," + LOST_INSERT + " "
                    + LEASE_UPDATE, claimedRow, args.toArray());
            return new Claim(rows, rows.size() >= max);
        }
        // H2 (embedded, one node): pick candidates, then lease each with a guarded update
        String candidates = "select o.id, o.attempts, o.lease_until from outbox o where o.id in (" + heads + ") and "
                + DUE + " order by o.id limit ?";
        return tx.execute(status -> {
            List<Map<String, Object>> found = jdbc.queryForList(candidates, args.toArray());
            List<Long> leased = new ArrayList<>(found.size());
            for (Map<String, Object> row : found) {
                long id = ((Number) row.get("id")).longValue();
                int attempts = ((Number) row.get("attempts")).intValue();
                Timestamp expired = row.get("lease_until") == null ? null : toTimestamp(row.get("lease_until"));
                if (jdbc.update("update outbox set lease_until = ?, attempts = attempts + 1 where id = ?"
                        + " and status = 'PENDING' and (lease_until is null or lease_until < ?)", until, id, now) == 1) {
                    leased.add(id);
                    if (expired != null && attempts > 0) {
                        jdbc.update("insert into delivery_attempt (outbox_id, attempt, started_at, duration_ms, outcome,"
                                + " code, detail) values (?, ?, ?, 0, '" + LOST + "', 'LEASE', '" + LOST_DETAIL + "')",
                                id, attempts, Timestamp.from(expired.toInstant().minus(lease)));
                    }
                }
            }
            if (leased.isEmpty()) {
                return new Claim(List.of(), false);
            }
            List<Claimed> rows = jdbc.query("select o.id, o.message_id, o.ordering_key,"
                    + " o.attempts, coalesce(o.replayed_at, o.created_at) as due_since, m.usage_json, o.release_line"
                    + " from outbox o join message m on m.id = o.message_id"
                    + " where o.id in (" + placeholders(leased.size()) + ") order by o.id", claimedRow, leased.toArray());
            boolean more = rows.size() >= max;
            if (!more && windowOf != null) { // rows of the claimed accounts queued in the window behind the claimed ones
                java.util.Set<String> accounts = new java.util.HashSet<>();
                rows.forEach(r -> accounts.add(r.orderingKey()));
                List<String> window = jdbc.queryForList("select h.ordering_key from outbox h where h.destination = ?"
                        + " and h.status = 'PENDING' order by h.id limit ?", String.class, windowOf, max * WINDOW_PER_ROW);
                more = window.size() >= max * WINDOW_PER_ROW || window.stream().filter(accounts::contains).count() > rows.size();
            }
            return new Claim(rows, more);
        });
    }

    private static Timestamp toTimestamp(Object value) {
        if (value instanceof Timestamp t) {
            return t;
        }
        if (value instanceof java.time.OffsetDateTime o) {
            return Timestamp.from(o.toInstant());
        }
        throw new IllegalStateException("unexpected lease_until type " + value.getClass().getName());
    }

    /**
     * Settles a claim's attempts in one transaction: each row delivered, rescheduled or dead, and
     * every attempt journaled. A crash before this commits leaves the rows leased; they go out
     * again when the lease runs out, and receivers recognise them by their idempotency keys.
     *
     * <p>The attempt number is the claim's fencing token: a row whose lease ran out and that another
     * claim has taken since (its attempts went up) is not settled by this one, since the later claim
     * owns it now and has journaled this attempt as lost.
     *
     * @return how many of the settlements were stale and left to the claim that owns the row now
     */
    public int settle(List<Settlement> settlements) {
        if (settlements.isEmpty()) {
            return 0;
        }
        Timestamp now = Timestamp.from(Instant.now());
        if (postgres) {
            return settlePostgres(settlements, now);
        }
        return tx.execute(status -> {
            int[][] counts = jdbc.batchUpdate("update outbox set status = ?, delivered_at = ?,"
                    + " next_attempt_at = coalesce(?, next_attempt_at), lease_until = null, last_error = ?"
                    + " where id = ? and attempts = ? and status = 'PENDING'", settlements, settlements.size(), (ps, s) -> {
                        ps.setString(1, s.outcome() == Outcome.RETRY ? "PENDING" : s.outcome().name());
                        ps.setTimestamp(2, s.outcome() == Outcome.DELIVERED ? now : null);
                        ps.setTimestamp(3, s.retryAt() == null ? null : Timestamp.from(s.retryAt()));
                        ps.setString(4, bounded(s.detail(), MAX_DETAIL));
                        ps.setLong(5, s.row().id());
                        ps.setInt(6, s.row().attempt());
                    });
            List<Settlement> owned = new ArrayList<>(settlements.size());
            for (int i = 0; i < settlements.size(); i++) {
                int count = counts[0][i];
                // a driver that cannot count batch rows reports SUCCESS_NO_INFO (-2): trust the claim
                if (count != 0) {
                    owned.add(settlements.get(i));
                }
            }
            if (!owned.isEmpty()) {
                jdbc.batchUpdate("insert into delivery_attempt (outbox_id, attempt, started_at, duration_ms, outcome, code,"
                        + " detail) values (?, ?, ?, ?, ?, ?, ?)", owned, owned.size(), (ps, s) -> {
                            ps.setLong(1, s.row().id());
                            ps.setInt(2, s.row().attempt());
                            ps.setTimestamp(3, Timestamp.from(s.started()));
                            ps.setLong(4, s.durationMs());
                            ps.setString(5, s.outcome().name());
                            ps.setString(6, bounded(s.code(), MAX_CODE));
                            ps.setString(7, bounded(s.detail(), MAX_DETAIL));
                        });
            }
            return settlements.size() - owned.size();
        });
    }

    /**
     * Settles on PostgreSQL in one statement (its own transaction): the outcomes go in as arrays, the
     * outbox rows this claim still owns are updated, and exactly those rows' attempts are journaled.
     * Measured with PgCostProbe (1000 Mercy messages at 200 msg/s, 3 file destinations; medians of 3
     * rounds): the batch UPDATE + batch INSERT it replaces ran 3 + ~0.2 statements per message (one per
     * row updated) plus the transaction's own; this runs ~0.13 (one per settled group). With V15, delivery's
     * statements went from 6.7 to 3.5 a message (3 of them are delivery_attempt's foreign-key checks) and
     * its WAL from ~4.9 to ~4.1 kB.
     */
    private int settlePostgres(List<Settlement> settlements, Timestamp now) {
        int n = settlements.size();
        Long[] ids = new Long[n];
        Integer[] attempts = new Integer[n];
        String[] statuses = new String[n];
        Long[] retryAt = new Long[n];
        String[] details = new String[n];
        Long[] started = new Long[n];
        Long[] durations = new Long[n];
        String[] outcomes = new String[n];
        String[] codes = new String[n];
        for (int i = 0; i < n; i++) {
            Settlement s = settlements.get(i);
            ids[i] = s.row().id();
            attempts[i] = s.row().attempt();
            statuses[i] = s.outcome() == Outcome.RETRY ? "PENDING" : s.outcome().name();
            retryAt[i] = s.retryAt() == null ? null : micros(s.retryAt());
            details[i] = bounded(s.detail(), MAX_DETAIL);
            started[i] = micros(s.started());
            durations[i] = s.durationMs();
            outcomes[i] = s.outcome().name();
            codes[i] = bounded(s.code(), MAX_CODE);
        }
        // instants travel as epoch microseconds (timestamptz's own precision): exact, and independent of the session's time zone
        Integer settled = jdbc.execute((Connection c) -> {
            try (var ps = c.prepareStatement(SETTLE_POSTGRES)) {
                // planned with each call's arrays, never from a cached generic plan: one made while the outbox
                // was small (no statistics yet) joined by a sequential scan and kept doing so as it grew,
                // 57 ms a settle (auto_explain); planning it costs less than the rows it replaces
                ps.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(0);
                ps.setArray(1, c.createArrayOf("bigint", ids));
                ps.setArray(2, c.createArrayOf("integer", attempts));
                ps.setArray(3, c.createArrayOf("varchar", statuses));
                ps.setArray(4, c.createArrayOf("bigint", retryAt));
                ps.setArray(5, c.createArrayOf("varchar", details));
                ps.setArray(6, c.createArrayOf("bigint", started));
                ps.setArray(7, c.createArrayOf("bigint", durations));
                ps.setArray(8, c.createArrayOf("varchar", outcomes));
                ps.setArray(9, c.createArrayOf("varchar", codes));
                ps.setTimestamp(10, now);
                try (var rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getInt(1);
                }
            }
        });
        return n - (settled == null ? 0 : settled);
    }

    /** Microseconds since the epoch: what a timestamptz keeps of an instant (whose nanoseconds it rounds away). */
    private static long micros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
    }

    /**
     * The fencing token ({@code attempts}) and {@code status = 'PENDING'} decide which rows this claim
     * still owns ({@code u}); only their attempts are journaled ({@code a}, which the statement runs
     * whether or not its rows are read). A row whose lease ran out and that a later claim took is left
     * to that claim, which has journaled this attempt as lost.
     */
    private static final String SETTLE_POSTGRES = """
            with s as (select * from unnest(?::bigint[], ?::integer[], ?::varchar[], ?::bigint[], ?::varchar[],
                                            ?::bigint[], ?::bigint[], ?::varchar[], ?::varchar[]) with ordinality
                                 as s(id, attempt, status, retry_at, detail, started, duration_ms, outcome, code, n)),
                 u as (update outbox o set status = s.status,
                              delivered_at = case when s.outcome = 'DELIVERED' then ?::timestamptz end,
                              next_attempt_at = coalesce(timestamptz 'epoch' + s.retry_at * interval '1 microsecond',
                                                         o.next_attempt_at),
                              lease_until = null, last_error = s.detail
                         from s where o.id = s.id and o.attempts = s.attempt and o.status = 'PENDING'
                       returning o.id),
                 a as (insert into delivery_attempt (outbox_id, attempt, started_at, duration_ms, outcome, code, detail)
                       select s.id, s.attempt, timestamptz 'epoch' + s.started * interval '1 microsecond', s.duration_ms,
                              s.outcome, s.code, s.detail from s join u on u.id = s.id order by s.n)
            select count(*) from u""";

    /** The clear usage JSON of a claimed row; throws (tampered value, missing data key) for that row alone. */
    public String openUsage(Claimed row) {
        return keys.openText(Column.MESSAGE_USAGE, row.storedUsage());
    }

    /** The clear FHIR resources of one message, as {@link #resources} gave them stored (none: render them). */
    public List<String> openResources(List<String> stored) {
        List<String> clear = new ArrayList<>(stored.size());
        for (String resource : stored) {
            clear.add(keys.openText(Column.OUTPUT_RESOURCE, resource));
        }
        return clear;
    }

    /**
     * The FHIR resources journaled for each of these messages, in the order they were produced, as stored
     * (sealed when encryption is on): each message's are opened with its row ({@link #openResources}).
     * Only messages journaled before issue 16 have any: they are delivered as they were rendered then;
     * a message missing from the map is rendered from its usage ({@link org.supplyhub.mapping.FhirRenderer}).
     */
    public Map<Long, List<String>> resources(Collection<Long> messageIds) {
        Map<Long, List<String>> byMessage = new HashMap<>();
        if (!messageIds.isEmpty()) {
            jdbc.query("select message_id, resource_json from message_output where message_id in ("
                    + placeholders(messageIds.size()) + ") order by message_id, id", rs -> {
                byMessage.computeIfAbsent(rs.getLong(1), id -> new ArrayList<>())
                        .add(rs.getString(2));
            }, messageIds.toArray());
        }
        return byMessage;
    }

    private static String placeholders(int n) {
        return String.join(",", Collections.nCopies(n, "?"));
    }

    /** An attempt's detail, and the outbox's last error: their columns' width. */
    private static final int MAX_DETAIL = 2000;
    /**
     * An attempt's code (V17): a connector's code is short (an ACK code, a status, a file name), but one
     * that did not fit would fail the whole group's settle on every retry.
     */
    private static final int MAX_CODE = 255;

    /** The text as it fits a column of that width. */
    private static String bounded(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }
}
