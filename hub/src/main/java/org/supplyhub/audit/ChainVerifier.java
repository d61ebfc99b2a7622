package org.supplyhub.audit;

import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Walks the audit chain from its anchor to its head in one consistent snapshot and reports what is
 * wrong, first broken row first: content changed, rows missing, order changed, the chain not matching a
 * signed checkpoint, a checkpoint whose signature does not verify. Plain JDBC, so the {@code verify-audit}
 * command runs it without the hub.
 */
public final class ChainVerifier {

    static final int PAGE = 2000;
    private static final int MAX_PROBLEMS = 100;

    private final Map<String, PublicKey> trusted;
    private final List<Checkpoint> external;

    /**
     * @param trustedKeys the public keys checkpoints may be signed with; empty: signatures are not checked
     * @param external    checkpoints read from the export (outside the database), checked like the table's
     */
    public ChainVerifier(Collection<PublicKey> trustedKeys, List<Checkpoint> external) {
        this.trusted = SigningKeys.byId(trustedKeys);
        this.external = List.copyOf(external);
    }

    /** The outcome: {@code valid} when there is no problem at all. */
    public record Report(boolean valid, Instant checkedAt, String chainId, Position anchor, Position head, long rowsVerified,
                         Unsealed unsealed, Checkpoints checkpoints, Problem firstBrokenRow, List<Problem> problems,
                         boolean moreProblems, long millis) { }

    public record Position(long seq, String hash) { }

    /** Rows not yet sealed (normal for a second or so after they are written). */
    public record Unsealed(long count, Long oldestId, Instant oldestAt) { }

    public record Checkpoints(int inDatabase, int exported, boolean signaturesChecked, int signaturesValid,
                              Long latestSeq, Instant latestAt) { }

    public Report verify(Connection con) throws SQLException {
        long started = System.nanoTime();
        boolean autoCommit = con.getAutoCommit();
        int isolation = con.getTransactionIsolation();
        // one snapshot: a sealer or a prune running meanwhile cannot make rows look missing
        con.setAutoCommit(false);
        con.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
        try {
            Report report = walk(con, started);
            con.commit();
            return report;
        } finally {
            con.rollback();
            con.setTransactionIsolation(isolation);
            con.setAutoCommit(autoCommit);
        }
    }

    private Report walk(Connection con, long started) throws SQLException {
        Head head = Head.read(con, false);
        List<Problem> problems = new ArrayList<>();

        List<Checkpoint> stored = checkpoints(con);
        List<Checkpoint> valid = new ArrayList<>();
        int signaturesValid = 0;
        List<Checkpoint> exported = external.stream().filter(c -> c.chainId().equals(head.chainId())).toList();
        for (Checkpoint c : concat(stored, exported)) {
            if (!c.chainId().equals(head.chainId())) {
                problems.add(new Problem(Problem.Kind.CHECKPOINT_MISMATCH, null, c.seq(), c.id(),
                        "the checkpoint names another chain (" + c.chainId() + ")"));
                continue;
            }
            if (trusted.isEmpty()) {
                valid.add(c); // nothing to check signatures with: compare what they say anyway
                continue;
            }
            PublicKey key = trusted.get(c.keyId());
            if (key == null || c.signature() == null || !SigningKeys.verify(key, c.payload(), c.signature())) {
                problems.add(new Problem(Problem.Kind.CHECKPOINT_SIGNATURE_INVALID, null, c.seq(), c.id(),
                        (key == null ? "signed with key " + c.keyId() + ", which is not a trusted key"
                                : "the signature does not verify: the checkpoint was altered or forged")
                                + (c.id() != null && stored.contains(c) ? "" : " (exported checkpoint)")));
            } else {
                signaturesValid++;
                valid.add(c);
            }
        }
        Map<Long, List<Checkpoint>> bySeq = new HashMap<>();
        valid.forEach(c -> bySeq.computeIfAbsent(c.seq(), s -> new ArrayList<>()).add(c));

        ChainWalk walk = new ChainWalk(head.anchorSeq(), head.anchorHash());
        Problem firstBroken = null;
        long after = head.anchorSeq();
        while (true) {
            List<AuditRow> page = page(con, after, PAGE);
            for (AuditRow row : page) {
                Problem p = walk.accept(row);
                if (p == null) {
                    for (Checkpoint c : bySeq.getOrDefault(row.seq(), List.of())) {
                        if (!c.hash().equals(row.hash())) {
                            p = new Problem(Problem.Kind.CHECKPOINT_MISMATCH, row.id(), row.seq(), c.id(),
                                    "signed checkpoint" + (c.id() == null ? "" : " " + c.id()) + " recorded another hash"
                                            + " for this place: the chain was rewritten at or before this row");
                            break;
                        }
                    }
                }
                if (p != null) {
                    firstBroken = firstBroken == null ? p : firstBroken;
                    problems.add(p);
                }
            }
            if (page.size() < PAGE) {
                break;
            }
            after = page.get(page.size() - 1).seq();
        }
        long lastSeq = walk.lastSeq();
        if (lastSeq < head.seq()) {
            Problem p = new Problem(Problem.Kind.ROW_MISSING, null, lastSeq + 1, null, "the chain ends at seq " + lastSeq
                    + " but its head is at seq " + head.seq() + ": the last rows were deleted");
            firstBroken = firstBroken == null ? p : firstBroken;
            problems.add(p);
        } else if (lastSeq > head.anchorSeq() && !walk.lastHash().equals(head.hash()) || lastSeq > head.seq()) {
            problems.add(new Problem(Problem.Kind.HEAD_MISMATCH, null, lastSeq, null,
                    "the head records seq " + head.seq() + " but the chain ends at seq " + lastSeq + " with another hash"));
        }
        Checkpoint latest = null;
        for (Checkpoint c : valid) {
            latest = latest == null || c.seq() > latest.seq() ? c : latest;
            if (c.seq() > lastSeq && c.seq() > head.anchorSeq()) {
                problems.add(new Problem(Problem.Kind.ROW_MISSING, null, lastSeq + 1, c.id(),
                        "signed checkpoint" + (c.id() == null ? "" : " " + c.id()) + " covers seq " + c.seq()
                                + " but the chain ends at seq " + lastSeq + ": the last rows were deleted"));
            } else if (c.seq() == head.anchorSeq() && c.seq() > 0 && !c.hash().equals(head.anchorHash())) {
                problems.add(new Problem(Problem.Kind.CHECKPOINT_MISMATCH, null, c.seq(), c.id(),
                        "the anchor's hash differs from what a signed checkpoint recorded for that place"));
            }
        }
        if (head.anchorSeq() > 0 && valid.stream().noneMatch(c -> c.anchorSeq() == head.anchorSeq()
                && c.anchorHash().equals(head.anchorHash()))) {
            problems.add(new Problem(Problem.Kind.ANCHOR_UNSIGNED, null, head.anchorSeq(), null,
                    "no valid signed checkpoint records the anchor (seq " + head.anchorSeq()
                            + "): rows before it may have been removed by someone other than the retention prune"));
        }
        Unsealed unsealed = unsealed(con);
        boolean more = problems.size() > MAX_PROBLEMS;
        return new Report(problems.isEmpty(), Instant.now(), head.chainId(), new Position(head.anchorSeq(), head.anchorHash()),
                new Position(head.seq(), head.hash()), walk.rows(), unsealed,
                new Checkpoints(stored.size(), exported.size(), !trusted.isEmpty(), signaturesValid,
                        latest == null ? null : latest.seq(), latest == null ? null : latest.at()),
                firstBroken, more ? List.copyOf(problems.subList(0, MAX_PROBLEMS)) : List.copyOf(problems), more,
                (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * The first problem between a trusted point ({@code afterSeq}/{@code afterHash}) and the head, or null:
     * what a checkpoint or a prune checks before it signs. Runs in the caller's transaction.
     */
    static Problem verifySegment(Connection con, long anchorSeq, long afterSeq, String afterHash, long headSeq,
                                 String headHash) throws SQLException {
        if (afterSeq > anchorSeq) {
            // the starting row itself must still be what the checkpoint signed
            List<AuditRow> start = page(con, afterSeq - 1, 1);
            if (start.isEmpty() || start.get(0).seq() != afterSeq || !afterHash.equals(start.get(0).hash())) {
                return new Problem(Problem.Kind.CHECKPOINT_MISMATCH, start.isEmpty() ? null : start.get(0).id(),
                        afterSeq, null, "the row at the last checkpoint's place is not what it signed");
            }
        }
        ChainWalk walk = new ChainWalk(afterSeq, afterHash);
        long after = afterSeq;
        while (after < headSeq) {
            List<AuditRow> page = page(con, after, PAGE);
            for (AuditRow row : page) {
                if (row.seq() > headSeq) {
                    break;
                }
                Problem p = walk.accept(row);
                if (p != null) {
                    return p;
                }
            }
            if (page.size() < PAGE) {
                break;
            }
            after = page.get(page.size() - 1).seq();
        }
        if (walk.lastSeq() != headSeq || !walk.lastHash().equals(headHash)) {
            return new Problem(Problem.Kind.HEAD_MISMATCH, null, walk.lastSeq(), null,
                    "the chain after seq " + afterSeq + " does not end at the head (seq " + headSeq + ")");
        }
        return null;
    }

    static List<AuditRow> page(Connection con, long afterSeq, int limit) throws SQLException {
        try (PreparedStatement ps = con.prepareStatement("select " + AuditRow.COLUMNS
                + " from audit_event where chain_seq > ? order by chain_seq fetch first " + limit + " rows only")) {
            ps.setLong(1, afterSeq);
            List<AuditRow> rows = new ArrayList<>(limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(AuditRow.read(rs));
                }
            }
            return rows;
        }
    }

    static List<Checkpoint> checkpoints(Connection con) throws SQLException {
        List<Checkpoint> list = new ArrayList<>();
        try (PreparedStatement ps = con.prepareStatement("select " + CHECKPOINT_COLUMNS
                + " from audit_checkpoint order by id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                list.add(checkpoint(rs));
            }
        }
        return list;
    }

    static final String CHECKPOINT_COLUMNS = "id, chain_id, seq, hash, anchor_seq, anchor_hash, at, key_id, signature,"
            + " reason, node";

    static Checkpoint checkpoint(ResultSet rs) throws SQLException {
        return new Checkpoint(rs.getLong("id"), rs.getString("chain_id"), rs.getLong("seq"), rs.getString("hash"),
                rs.getLong("anchor_seq"), rs.getString("anchor_hash"),
                rs.getObject("at", OffsetDateTime.class).toInstant(), rs.getString("key_id"),
                rs.getString("signature"), rs.getString("reason"), rs.getString("node"));
    }

    private static Unsealed unsealed(Connection con) throws SQLException {
        long count;
        try (PreparedStatement ps = con.prepareStatement("select count(*) from audit_event where chain_seq is null");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            count = rs.getLong(1);
        }
        if (count == 0) {
            return new Unsealed(0, null, null);
        }
        try (PreparedStatement ps = con.prepareStatement(
                "select id, at from audit_event where chain_seq is null order by id fetch first 1 rows only");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            return new Unsealed(count, rs.getLong(1), rs.getObject(2, OffsetDateTime.class).toInstant());
        }
    }

    private static List<Checkpoint> concat(List<Checkpoint> a, List<Checkpoint> b) {
        List<Checkpoint> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
