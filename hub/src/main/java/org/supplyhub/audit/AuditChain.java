package org.supplyhub.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The chain's writers, plain JDBC on the shared database: the sealer, checkpoints and the retention prune.
 * Each takes the one chain-head row's lock ({@code select … for update}) for a short transaction, so
 * several nodes cooperate on one chain; the ingest transactions never take it (their rows are sealed
 * afterwards, in id order of what has committed).
 */
public final class AuditChain {

    private static final Logger log = LoggerFactory.getLogger(AuditChain.class);

    /** The export file of a chain in the export directory, one JSON line per checkpoint. */
    public static String exportFile(String chainId) {
        return "audit-checkpoints-" + chainId + ".jsonl";
    }

    /**
     * @param exportDir where checkpoints are appended as JSON lines; null: not exported
     * @param node      this node's name, on its checkpoints (each node exports its own)
     * @param trusted   further public keys whose checkpoints count (keys of other nodes, retired keys)
     */
    public record Settings(SigningKeys.Signer signer, Path exportDir, String node, int sealBatch,
                           List<PublicKey> trusted) {
    }

    /** A refused checkpoint or prune: the chain since the last trusted point does not verify. */
    public static final class ChainBrokenException extends RuntimeException {
        private final transient Problem problem;

        ChainBrokenException(String what, Problem problem) {
            super(what + ": " + problem.kind() + " at row " + problem.id() + " (seq " + problem.seq() + ")");
            this.problem = problem;
        }

        public Problem problem() {
            return problem;
        }
    }

    /** What one prune batch removed: rows up to {@code anchorSeq}. */
    public record Pruned(int rows, long anchorSeq) { }

    private final DataSource dataSource;
    private final Settings settings;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper();
    private final Map<String, PublicKey> trusted;

    public AuditChain(DataSource dataSource, Settings settings, Clock clock) {
        this.dataSource = dataSource;
        this.settings = settings;
        this.clock = clock;
        List<PublicKey> keys = new ArrayList<>(settings.trusted());
        keys.add(settings.signer().publicKey());
        this.trusted = SigningKeys.byId(keys);
    }

    public SigningKeys.Signer signer() {
        return settings.signer();
    }

    /** Seals every committed unsealed row; returns how many. */
    public long seal() throws SQLException {
        long total = 0;
        int n;
        do {
            n = sealBatch();
            total += n;
        } while (n == settings.sealBatch());
        return total;
    }

    /** Seals up to one batch of unsealed rows, oldest id first, in one transaction. */
    int sealBatch() throws SQLException {
        try (Connection con = dataSource.getConnection()) {
            con.setAutoCommit(false);
            try {
                Head head = Head.read(con, true);
                head.ensureChainId(con);
                List<AuditRow> rows = new ArrayList<>();
                try (PreparedStatement ps = con.prepareStatement("select " + AuditRow.COLUMNS + " from audit_event"
                        + " where chain_seq is null order by id fetch first " + settings.sealBatch() + " rows only");
                     ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        rows.add(AuditRow.read(rs));
                    }
                }
                if (rows.isEmpty()) {
                    con.rollback();
                    return 0;
                }
                long seq = head.seq();
                String prev = head.hash();
                // by primary key only: a "chain_seq is null" condition lets the planner walk the index of
                // unsealed rows for every update (measured: 2.5x slower on H2); the head's lock keeps other
                // sealers out meanwhile
                try (PreparedStatement ps = con.prepareStatement("update audit_event set chain_seq = ?, prev_hash = ?,"
                        + " hash = ? where id = ?")) {
                    for (AuditRow row : rows) {
                        seq++;
                        String hash = ChainHash.of(prev, row.at(seq));
                        ps.setLong(1, seq);
                        ps.setString(2, prev);
                        ps.setString(3, hash);
                        ps.setLong(4, row.id());
                        ps.addBatch();
                        prev = hash;
                    }
                    for (int updated : ps.executeBatch()) {
                        if (updated == 0) {
                            throw new SQLException("an audit row disappeared while it was being sealed");
                        }
                    }
                }
                try (PreparedStatement ps = con.prepareStatement(
                        "update audit_chain_head set seq = ?, hash = ?, updated_at = ? where id = 1")) {
                    ps.setLong(1, seq);
                    ps.setString(2, prev);
                    ps.setTimestamp(3, Timestamp.from(clock.instant()));
                    ps.executeUpdate();
                }
                con.commit();
                return rows.size();
            } catch (SQLException | RuntimeException e) {
                con.rollback();
                throw e;
            }
        }
    }

    /**
     * Signs the head and the anchor, after checking the chain from the last valid checkpoint (or the
     * anchor) to the head, so a rewritten chain is never signed. Empty when nothing changed since the last
     * checkpoint (unless {@code force}).
     *
     * @throws ChainBrokenException when the rows since the last trusted point do not verify
     */
    public Optional<Checkpoint> checkpoint(String reason, boolean force) throws SQLException {
        Optional<Checkpoint> made;
        try (Connection con = dataSource.getConnection()) {
            con.setAutoCommit(false);
            try {
                Head head = Head.read(con, true);
                Checkpoint last = lastTrusted(con);
                if (last != null && !force && last.seq() == head.seq() && last.hash().equals(head.hash())
                        && last.anchorSeq() == head.anchorSeq()) {
                    con.rollback();
                    return Optional.empty();
                }
                long fromSeq;
                String fromHash;
                if (last != null && last.anchorSeq() == head.anchorSeq() && last.anchorHash().equals(head.anchorHash())
                        && last.seq() >= head.anchorSeq() && last.seq() <= head.seq()) {
                    fromSeq = last.seq();
                    fromHash = last.hash();
                } else if (head.anchorSeq() == 0) {
                    fromSeq = 0;
                    fromHash = ChainHash.GENESIS;
                } else {
                    throw new ChainBrokenException("checkpoint refused", new Problem(Problem.Kind.ANCHOR_UNSIGNED, null,
                            head.anchorSeq(), null, "the anchor is not the one the last signed checkpoint recorded"));
                }
                Problem p = ChainVerifier.verifySegment(con, head.anchorSeq(), fromSeq, fromHash, head.seq(),
                        head.hash());
                if (p != null) {
                    throw new ChainBrokenException("checkpoint refused", p);
                }
                made = Optional.of(insert(con, new Checkpoint(null, head.ensureChainId(con), head.seq(), head.hash(), head.anchorSeq(),
                        head.anchorHash(), clock.instant(), null, null, reason, settings.node())));
                con.commit();
            } catch (SQLException | RuntimeException e) {
                con.rollback();
                throw e;
            }
        }
        export();
        return made;
    }

    /** The newest checkpoint signed with a trusted key whose signature verifies, or null. */
    private Checkpoint lastTrusted(Connection con) throws SQLException {
        List<Checkpoint> all = ChainVerifier.checkpoints(con);
        all.sort(Comparator.comparing(Checkpoint::id).reversed());
        for (Checkpoint c : all) {
            PublicKey key = trusted.get(c.keyId());
            if (key != null && SigningKeys.verify(key, c.payload(), c.signature())) {
                return c;
            }
        }
        return null;
    }

    private Checkpoint insert(Connection con, Checkpoint unsigned) throws SQLException {
        Checkpoint c = unsigned.signedBy(settings.signer());
        try (PreparedStatement ps = con.prepareStatement("insert into audit_checkpoint (seq, hash, anchor_seq,"
                + " anchor_hash, at, key_id, signature, reason, node, chain_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                new String[] {"id"})) {
            ps.setLong(1, c.seq());
            ps.setString(2, c.hash());
            ps.setLong(3, c.anchorSeq());
            ps.setString(4, c.anchorHash());
            ps.setTimestamp(5, Timestamp.from(c.at()));
            ps.setString(6, c.keyId());
            ps.setString(7, c.signature());
            ps.setString(8, c.reason());
            ps.setString(9, c.node());
            ps.setString(10, c.chainId());
            ps.executeUpdate();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                keys.next();
                return new Checkpoint(keys.getLong(1), c.chainId(), c.seq(), c.hash(), c.anchorSeq(), c.anchorHash(), c.at(),
                        c.keyId(), c.signature(), c.reason(), c.node());
            }
        }
    }

    /**
     * Removes up to {@code batch} of the oldest sealed rows written before {@code cutoff} (a prefix of the
     * chain: pruning stops at the first younger row), after checking them, and moves the anchor to the last
     * one, with a signed checkpoint of the new anchor in the same transaction.
     */
    public Pruned prune(Instant cutoff, int batch) throws SQLException {
        Pruned pruned;
        try (Connection con = dataSource.getConnection()) {
            con.setAutoCommit(false);
            try {
                Head head = Head.read(con, true);
                List<AuditRow> rows = ChainVerifier.page(con, head.anchorSeq(), batch);
                ChainWalk walk = new ChainWalk(head.anchorSeq(), head.anchorHash());
                int n = 0;
                for (AuditRow row : rows) {
                    if (!row.at().isBefore(cutoff) || row.seq() > head.seq()) {
                        break;
                    }
                    Problem p = walk.accept(row);
                    if (p != null) {
                        // never destroy the evidence: a broken stretch stays until someone has looked at it
                        throw new ChainBrokenException("audit prune refused", p);
                    }
                    n++;
                }
                if (n == 0) {
                    con.rollback();
                    return new Pruned(0, head.anchorSeq());
                }
                AuditRow last = rows.get(n - 1);
                try (PreparedStatement ps = con.prepareStatement(
                        "delete from audit_event where chain_seq > ? and chain_seq <= ?")) {
                    ps.setLong(1, head.anchorSeq());
                    ps.setLong(2, last.seq());
                    if (ps.executeUpdate() != n) {
                        throw new SQLException("the rows to prune changed while they were checked");
                    }
                }
                try (PreparedStatement ps = con.prepareStatement("update audit_chain_head set anchor_seq = ?,"
                        + " anchor_hash = ?, anchor_at = ?, pruned_rows = pruned_rows + ?, updated_at = ? where id = 1")) {
                    ps.setLong(1, last.seq());
                    ps.setString(2, last.hash());
                    ps.setTimestamp(3, Timestamp.from(last.at()));
                    ps.setLong(4, n);
                    ps.setTimestamp(5, Timestamp.from(clock.instant()));
                    ps.executeUpdate();
                }
                // the checkpoint signs only what was just checked: the new anchor
                insert(con, new Checkpoint(null, head.ensureChainId(con), last.seq(), last.hash(), last.seq(), last.hash(), clock.instant(),
                        null, null, "PRUNE", settings.node()));
                try (PreparedStatement ps = con.prepareStatement(
                        "delete from audit_checkpoint where seq < ? and at < ?")) {
                    ps.setLong(1, last.seq());
                    ps.setTimestamp(2, Timestamp.from(cutoff));
                    ps.executeUpdate();
                }
                con.commit();
                pruned = new Pruned(n, last.seq());
            } catch (SQLException | RuntimeException e) {
                con.rollback();
                throw e;
            }
        }
        export();
        return pruned;
    }

    /** Appends this node's checkpoints not yet exported to the export file (fsync'd), then marks them. */
    public void export() {
        if (settings.exportDir() == null) {
            return;
        }
        try (Connection con = dataSource.getConnection()) {
            List<Checkpoint> pending = new ArrayList<>();
            try (PreparedStatement ps = con.prepareStatement("select " + ChainVerifier.CHECKPOINT_COLUMNS
                    + " from audit_checkpoint where node = ? and exported_at is null order by id")) {
                ps.setString(1, settings.node());
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        pending.add(ChainVerifier.checkpoint(rs));
                    }
                }
            }
            if (pending.isEmpty()) {
                return;
            }
            StringBuilder lines = new StringBuilder();
            pending.forEach(c -> lines.append(c.exportLine(json)).append('\n'));
            Files.createDirectories(settings.exportDir());
            try (FileChannel out = FileChannel.open(settings.exportDir().resolve(exportFile(pending.get(0).chainId())), StandardOpenOption.CREATE,
                    StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
                ByteBuffer bytes = ByteBuffer.wrap(lines.toString().getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
                out.force(true);
            }
            try (PreparedStatement ps = con.prepareStatement(
                    "update audit_checkpoint set exported_at = ? where id = ?")) {
                for (Checkpoint c : pending) {
                    ps.setTimestamp(1, Timestamp.from(clock.instant()));
                    ps.setLong(2, c.id());
                    ps.addBatch();
                }
                ps.executeBatch();
            }
        } catch (SQLException | IOException e) {
            // the checkpoints stay in the table, marked unexported: the next export retries them
            log.error("Audit checkpoints could not be exported to {}: {}", settings.exportDir(),
                    e.getClass().getSimpleName());
        }
    }

    /**
     * The exported checkpoints in a file, or in every export file of a directory (for verification; the
     * verifier keeps those of its chain). None when nothing is there.
     */
    public static List<Checkpoint> readExport(Path fileOrDir) throws IOException {
        List<Path> files = new ArrayList<>();
        if (Files.isDirectory(fileOrDir)) {
            try (var listing = Files.newDirectoryStream(fileOrDir, "audit-checkpoints-*.jsonl")) {
                listing.forEach(files::add);
            }
        } else if (Files.exists(fileOrDir)) {
            files.add(fileOrDir);
        }
        ObjectMapper json = new ObjectMapper();
        List<Checkpoint> list = new ArrayList<>();
        for (Path file : files) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    list.add(Checkpoint.parseExportLine(line, json));
                }
            }
        }
        return list;
    }
}
