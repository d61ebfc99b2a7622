package org.supplyhub.journal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The audit trail in the journal database: every ingest, admin read, replay and refused connection,
 * with the caller's identity and ids only. Ingests are written by the {@link Journal} in the same
 * transaction as the message; everything else comes through here. Rows are written unsealed; the audit
 * chain (package {@code org.supplyhub.audit}) seals them into its hash chain shortly after. Refused
 * requests are folded per source and minute ({@link RefusalFolding}), so a flood cannot grow the table
 * without bound.
 */
@Repository
public class AuditLog {

    private static final Logger log = LoggerFactory.getLogger(AuditLog.class);

    static final String INSERT = "insert into audit_event (at, actor, action, interface_id, target, outcome, detail,"
            + " message_id, patient_key, source, event_count) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

    /** Sources tracked at once by the folding of refused requests (beyond: one shared bucket per action). */
    static final int MAX_REFUSAL_SOURCES = 10_000;
    static final int DEFAULT_REFUSED_ROWS_PER_MINUTE = 5;

    /** One audited event. */
    public record Event(long id, Instant at, String actor, String action, String interfaceId, String target,
                       String outcome, String detail) { }

    private final JdbcTemplate jdbc;
    private final java.time.Clock clock;
    private final RefusalFolding refusals;
    private final java.util.concurrent.ScheduledExecutorService flusher;

    public AuditLog(JdbcTemplate jdbc) {
        this(jdbc, DEFAULT_REFUSED_ROWS_PER_MINUTE);
    }

    /** @param refusedRowsPerMinute refusals of one source, caller, action and outcome written as rows per minute */
    @org.springframework.beans.factory.annotation.Autowired
    public AuditLog(JdbcTemplate jdbc,
                    @org.springframework.beans.factory.annotation.Value("${hub.audit.refused-rows-per-minute:"
                            + DEFAULT_REFUSED_ROWS_PER_MINUTE + "}") int refusedRowsPerMinute) {
        this(jdbc, java.time.Clock.systemUTC(), MAX_REFUSAL_SOURCES, refusedRowsPerMinute, true);
    }

    /** {@code flushEvery}: write closed refusal minutes every few seconds on a thread of its own. */
    AuditLog(JdbcTemplate jdbc, java.time.Clock clock, int maxRefusalSources, int refusedRowsPerMinute,
             boolean flushEvery) {
        this.jdbc = jdbc;
        this.clock = clock;
        this.refusals = new RefusalFolding(maxRefusalSources, refusedRowsPerMinute);
        this.flusher = flushEvery ? java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "audit-refusals");
            t.setDaemon(true);
            return t;
        }) : null;
        if (flusher != null) {
            flusher.scheduleWithFixedDelay(() -> flushRefusals(false), 5, 5, java.util.concurrent.TimeUnit.SECONDS);
        }
    }

    /**
     * Writes the folded refusals of every minute that is over ({@code all}: of every minute, at shutdown),
     * each as one row carrying its count.
     */
    void flushRefusals(boolean all) {
        try {
            for (AuditEvent row : refusals.drain(all ? null : clock.instant())) {
                write(row);
            }
        } catch (RuntimeException e) {
            log.error("Folded refusals could not be audited: {}", e.getClass().getSimpleName());
        }
    }

    @jakarta.annotation.PreDestroy
    void close() {
        if (flusher != null) {
            flusher.shutdownNow();
        }
        flushRefusals(true);
    }

    /** The actor an OAuth2 client is audited as (its client id, the token's subject). */
    public static String client(java.security.Principal principal) {
        return "client:" + principal.getName();
    }

    public static String anonymous(String peer) {
        return "anonymous@" + peer;
    }

    public void record(String actor, String action, String interfaceId, String target, String outcome, String detail) {
        record(AuditEvent.of(actor, action).interfaceId(interfaceId).target(target).outcome(outcome).detail(detail));
    }

    public void record(AuditEvent event) {
        if (RefusalFolding.folds(event)) {
            // where it came from is the request's, known only on this thread: the folded row is written later
            AuditEvent sourced = event.source() != null ? event : event.source(currentRequestAddress());
            event = refusals.admit(sourced, clock.instant());
            if (event == null) {
                return; // counted into its source's row for this minute
            }
        }
        write(event);
    }

    private void write(AuditEvent event) {
        try {
            insert(event);
        } catch (RuntimeException e) {
            // the refusal or read itself stands; losing its audit row is reported, not hidden
            log.error("Audit event {} for {} could not be written: {}", event.action(), event.interfaceId(),
                    e.getClass().getSimpleName());
        }
    }

    private void insert(AuditEvent event) {
        jdbc.update(INSERT, ps -> bind(ps, clock.instant(), event));
    }

    /**
     * Binds {@link #INSERT}'s parameters: every insert of an audit row goes through here. The time is kept
     * to the microsecond (what PostgreSQL and H2 store), so the chain hashes exactly what was written.
     */
    static void bind(PreparedStatement ps, Instant at, AuditEvent e) throws SQLException {
        ps.setTimestamp(1, Timestamp.from(at.truncatedTo(java.time.temporal.ChronoUnit.MICROS)));
        ps.setString(2, Journal.bounded(e.actor() == null ? "unknown" : e.actor(), 300));
        ps.setString(3, e.action());
        ps.setString(4, e.interfaceId());
        ps.setString(5, Journal.bounded(e.target(), 200));
        ps.setString(6, e.outcome() == null ? "OK" : e.outcome());
        ps.setString(7, Journal.bounded(e.detail(), 500));
        if (e.messageId() == null) {
            ps.setNull(8, Types.BIGINT);
        } else {
            ps.setLong(8, e.messageId());
        }
        ps.setString(9, e.patientKey());
        ps.setString(10, Journal.bounded(e.source() != null ? e.source() : currentRequestAddress(), 100));
        ps.setInt(11, Math.max(1, e.count()));
    }

    /** The address of the HTTP request being served on this thread (after the trusted-proxy rules), if any. */
    private static String currentRequestAddress() {
        return org.springframework.web.context.request.RequestContextHolder.getRequestAttributes()
                instanceof org.springframework.web.context.request.ServletRequestAttributes request
                ? request.getRequest().getRemoteAddr() : null;
    }

    /**
     * An audit row that commits or rolls back with the caller's transaction (the action and its record
     * are one): unlike {@link #record}, a failure to write it is thrown, so the action does not stand unaudited.
     */
    public void recordInTransaction(String actor, String action, String interfaceId, String target, String outcome,
                                    String detail) {
        recordInTransaction(AuditEvent.of(actor, action).interfaceId(interfaceId).target(target).outcome(outcome)
                .detail(detail));
    }

    /** {@link #recordInTransaction(String, String, String, String, String, String)} of a built event. */
    public void recordInTransaction(AuditEvent event) {
        insert(event);
    }

    /**
     * A configuration reload (by API or file watch): one CONFIG_RELOAD event, target {@code reload <id>},
     * and the SHA-256 of each file of the set it read under the same id in {@code audit_config_file}.
     */
    public void configReload(String actor, String outcome, String detail, java.util.Map<String, String> files) {
        String reloadId = java.util.UUID.randomUUID().toString();
        try {
            jdbc.batchUpdate("insert into audit_config_file (reload_id, file, sha256) values (?, ?, ?)",
                    files.entrySet().stream().map(f -> new Object[] {reloadId, Journal.bounded(f.getKey(), 300), f.getValue()})
                            .toList());
        } catch (RuntimeException e) {
            log.error("Audit of the files of reload {} could not be written: {}", reloadId, e.getClass().getSimpleName());
        }
        // the file rows are outside the hash chain: their digest in the chained row makes an edit of them show
        String digest = "files sha256:" + configFilesDigest(files);
        record(actor, "CONFIG_RELOAD", null, "reload " + reloadId, outcome,
                detail == null || detail.isBlank() ? digest : digest + "; " + detail);
    }

    /**
     * The SHA-256 (hex) over the {@code file:sha256} lines of a reload's files, sorted by file, as stored in
     * {@code audit_config_file}: what its CONFIG_RELOAD row's detail names, to check those rows against.
     */
    public static String configFilesDigest(java.util.Map<String, String> files) {
        StringBuilder lines = new StringBuilder();
        new java.util.TreeMap<>(files).forEach((file, sha) ->
                lines.append(Journal.bounded(file, 300)).append(':').append(sha).append('\n'));
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(lines.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public void denied(String actor, String target, String status, String reason) {
        record(actor, "ACCESS_DENIED", null, target, status, reason);
    }

    /** Newest first, optionally only one actor's or one action's. */
    public List<Event> search(String actor, String action, Instant since, int limit) {
        return search(actor, action, since, null, limit);
    }

    /** {@link #search(String, String, Instant, int)} with keyset paging: only events older than id {@code before}. */
    public List<Event> search(String actor, String action, Instant since, Long before, int limit) {
        StringBuilder sql = new StringBuilder("select id, at, actor, action, interface_id, target, outcome, detail"
                + " from audit_event where 1 = 1");
        List<Object> args = new ArrayList<>();
        if (actor != null) {
            sql.append(" and actor = ?");
            args.add(actor);
        }
        if (action != null) {
            sql.append(" and action = ?");
            args.add(action);
        }
        if (since != null) {
            sql.append(" and at >= ?");
            args.add(Timestamp.from(since));
        }
        if (before != null) {
            sql.append(" and id < ?");
            args.add(before);
        }
        sql.append(" order by id desc fetch first ").append(Math.max(1, Math.min(limit, 1000))).append(" rows only");
        return jdbc.query(sql.toString(), (rs, i) -> new Event(rs.getLong("id"), rs.getTimestamp("at").toInstant(),
                rs.getString("actor"), rs.getString("action"), rs.getString("interface_id"), rs.getString("target"),
                rs.getString("outcome"), rs.getString("detail")), args.toArray());
    }
}
