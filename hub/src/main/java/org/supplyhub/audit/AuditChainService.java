package org.supplyhub.audit;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Service;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;
import org.supplyhub.journal.crypto.JournalKeys;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs the audit chain in the hub: seals new audit rows every {@code hub.audit.seal-interval}, signs a
 * checkpoint every {@code hub.audit.checkpoint-interval} (exported to {@code hub.audit.checkpoint-export}),
 * prunes rows older than {@code hub.audit.retention}, and verifies the chain on demand.
 */
@Service
public class AuditChainService implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(AuditChainService.class);
    public static final String SIGNING_KEY_PROPERTY = "hub.audit.signing-key";
    /** The generated key's file name in the data folder ({@link JournalKeys#dataDirectory}). */
    public static final String DEFAULT_KEY_FILE = "audit-signing-key.pem";
    private static final Pattern RETENTION = Pattern.compile("(\\d+)\\s*(y|d|h|m|s)");

    private final AuditChain chain;
    private final DataSource dataSource;
    private final AuditLog audit;
    private final Clock clock = Clock.systemUTC();
    private final Duration sealInterval;
    private final Duration checkpointInterval;
    private final Duration pruneInterval;
    private final String retention;
    private final int pruneBatch;
    private final Path exportDir;
    private final List<PublicKey> trusted;
    private final Counter sealed;
    private final Counter pruned;
    private final Counter refused;
    private ScheduledExecutorService scheduler;
    private volatile boolean running;

    public AuditChainService(DataSource dataSource, AuditLog audit, MeterRegistry meters,
                             @Value("${" + SIGNING_KEY_PROPERTY + ":}") String signingKey,
                             @Value("${hub.audit.verify-keys:}") String verifyKeys,
                             @Value("${hub.audit.checkpoint-export:}") String checkpointExport,
                             @Value("${hub.audit.node:}") String node,
                             @Value("${hub.audit.seal-interval:1s}") Duration sealInterval,
                             @Value("${hub.audit.checkpoint-interval:5m}") Duration checkpointInterval,
                             @Value("${hub.audit.retention:6y}") String retention,
                             @Value("${hub.audit.prune-interval:1h}") Duration pruneInterval,
                             @Value("${hub.audit.prune-batch:1000}") int pruneBatch,
                             @Value("${spring.datasource.url:}") String databaseUrl) {
        this.dataSource = dataSource;
        this.audit = audit;
        this.sealInterval = sealInterval;
        this.checkpointInterval = checkpointInterval;
        this.pruneInterval = pruneInterval;
        this.retention = retention;
        this.pruneBatch = pruneBatch;
        cutoff(Instant.now(), retention); // a malformed retention fails the start
        Path dataDir = JournalKeys.dataDirectory(databaseUrl);
        SigningKeys.Signer signer = signer(signingKey, databaseUrl, dataDir);
        List<PublicKey> extra = new ArrayList<>();
        Arrays.stream(verifyKeys.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .forEach(f -> extra.add(SigningKeys.readPublicKey(file(f))));
        this.trusted = new ArrayList<>(extra);
        this.trusted.add(signer.publicKey());
        // by default beside the journal's other local files (a volume in the compose topology)
        this.exportDir = checkpointExport.equals("none") ? null
                : checkpointExport.isBlank() ? dataDir : file(checkpointExport);
        this.chain = new AuditChain(dataSource, new AuditChain.Settings(signer, exportDir,
                node.isBlank() ? hostName() : node, 1000, extra), clock);
        this.sealed = Counter.builder("hub_audit_sealed").description("audit rows sealed into the hash chain")
                .register(meters);
        this.pruned = Counter.builder("hub_audit_pruned").description("audit rows removed by the audit retention")
                .register(meters);
        this.refused = Counter.builder("hub_audit_chain_refused")
                .description("checkpoints or prunes refused because the chain did not verify").register(meters);
    }

    /**
     * The signing key: the file named; without one, in the default run (an H2 journal) one made in the data
     * folder (said once in the log). Nodes sharing a database must share the key, so there it must be given.
     */
    static SigningKeys.Signer signer(String signingKey, String databaseUrl, Path dataDir) {
        if (!signingKey.isBlank()) {
            return SigningKeys.load(file(signingKey));
        }
        if (!JournalKeys.isH2File(databaseUrl) && !JournalKeys.isH2Memory(databaseUrl)) {
            throw new SigningKeys.AuditKeyException(SIGNING_KEY_PROPERTY + " is not set. A signing key is generated"
                    + " only for the default H2 journal; with " + JournalKeys.databaseKind(databaseUrl) + " every node"
                    + " must sign checkpoints with the same key, or /api/audit/verify calls the other nodes'"
                    + " checkpoints untrusted (" + SIGNING_KEY_PROPERTY + ": file:/run/secrets/audit-signing-key.pem,"
                    + " its public key beside it as audit-signing-key.pub.pem).");
        }
        Path key = dataDir.resolve(DEFAULT_KEY_FILE);
        if (SigningKeys.generateIfMissing(key)) {
            log.warn("Made an audit signing key (Ed25519) at {}, owner-only; give auditors its public key {}."
                            + " Set {} to keep the key elsewhere (a secret all nodes share).",
                    key.toAbsolutePath(), SigningKeys.publicKeyFile(key).toAbsolutePath(), SIGNING_KEY_PROPERTY);
        }
        return SigningKeys.load(key);
    }

    static Path file(String location) {
        return Path.of(location.startsWith("file:") ? location.substring("file:".length()) : location);
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "hub";
        }
    }

    /**
     * The oldest time kept under a retention like {@code 6y}, {@code 400d}, {@code 12h}; null for
     * {@code forever}.
     */
    static Instant cutoff(Instant now, String retention) {
        if (retention.equalsIgnoreCase("forever")) {
            return null;
        }
        Matcher m = RETENTION.matcher(retention.trim());
        if (!m.matches()) {
            throw new org.supplyhub.mapping.ConfigurationException("hub.audit.retention must be like 6y, 400d, 12h or forever (got '"
                    + retention + "')");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "y" -> now.atOffset(ZoneOffset.UTC).minusYears(n).toInstant();
            case "d" -> now.minus(Duration.ofDays(n));
            case "h" -> now.minus(Duration.ofHours(n));
            case "m" -> now.minus(Duration.ofMinutes(n));
            default -> now.minus(Duration.ofSeconds(n));
        };
    }

    public AuditChain chain() {
        return chain;
    }

    /** Seals what is unsealed now (also run every seal interval). */
    public long sealNow() throws SQLException {
        long n = chain.seal();
        sealed.increment(n);
        return n;
    }

    /** Seals, then signs a checkpoint of the head; empty when the chain had not moved. */
    public Optional<Checkpoint> checkpointNow(String reason, boolean force) throws SQLException {
        sealNow();
        try {
            return chain.checkpoint(reason, force);
        } catch (AuditChain.ChainBrokenException e) {
            refused.increment();
            log.error("Audit checkpoint refused, the chain does not verify: {}", e.getMessage());
            throw e; // audited once, by whoever asked: the caller on demand, the hub on its own schedule
        }
    }

    /** A checkpoint the hub makes by itself (its schedule, its shutdown): a refusal is audited as the hub's. */
    private Optional<Checkpoint> ownCheckpoint(String reason) throws SQLException {
        try {
            return checkpointNow(reason, false);
        } catch (AuditChain.ChainBrokenException e) {
            audit.record(AuditEvent.of("hub", "AUDIT_CHECKPOINT").target("seq " + e.problem().seq())
                    .outcome("REFUSED").detail(e.getMessage()));
            throw e;
        }
    }

    /** Prunes every batch older than the retention; returns the rows removed. */
    public long pruneNow(Instant now) throws SQLException {
        Instant cutoff = cutoff(now, retention);
        if (cutoff == null) {
            return 0;
        }
        long total = 0;
        AuditChain.Pruned p;
        try {
            do {
                p = chain.prune(cutoff, pruneBatch);
                total += p.rows();
            } while (p.rows() == pruneBatch);
        } catch (AuditChain.ChainBrokenException e) {
            refused.increment();
            log.error("Audit retention prune refused, the rows to prune do not verify: {}", e.getMessage());
            audit.record(AuditEvent.of("hub", "AUDIT_PRUNE").outcome("REFUSED").detail(e.getMessage()));
            throw e;
        }
        if (total > 0) {
            pruned.increment(total);
            audit.record(AuditEvent.of("hub", "AUDIT_PRUNE").target("seq " + chainAnchor())
                    .outcome("OK").detail(total + " audit rows older than " + cutoff + " removed (retention " + retention + ")"));
        }
        return total;
    }

    private long chainAnchor() throws SQLException {
        try (Connection con = dataSource.getConnection()) {
            return Head.read(con, false).anchorSeq();
        }
    }

    /** Walks the whole chain (with the exported checkpoints, when there are any). */
    public ChainVerifier.Report verify() throws SQLException {
        List<Checkpoint> exported;
        try {
            exported = exportDir == null ? List.of() : AuditChain.readExport(exportDir);
        } catch (IOException e) {
            throw new UncheckedIOException("the checkpoint export in " + exportDir + " could not be read", e);
        }
        try (Connection con = dataSource.getConnection()) {
            return new ChainVerifier(trusted, exported).verify(con);
        }
    }

    private final java.util.Set<String> failing = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Runs a scheduled task; a failure is logged once until it works again (a database outage is not log spam). */
    private void quietly(String what, Task task) {
        try {
            task.run();
            if (failing.remove(what)) {
                log.info("Audit chain {} works again", what);
            }
        } catch (AuditChain.ChainBrokenException e) {
            // logged and audited where it was found; tried again next time
        } catch (SQLException | RuntimeException e) {
            if (failing.add(what)) {
                log.warn("Audit chain {} failed, will retry: {}", what, e.getClass().getSimpleName());
            }
        }
    }

    private interface Task {
        void run() throws SQLException;
    }

    @Override
    public void start() {
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "audit-chain");
            t.setDaemon(true);
            return t;
        });
        running = true;
        scheduler.scheduleWithFixedDelay(() -> quietly("sealing", this::sealNow), sealInterval.toMillis(),
                sealInterval.toMillis(), TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(() -> quietly("checkpoint", () -> ownCheckpoint("PERIODIC")),
                checkpointInterval.toMillis(), checkpointInterval.toMillis(), TimeUnit.MILLISECONDS);
        scheduler.scheduleWithFixedDelay(() -> quietly("retention", () -> pruneNow(clock.instant())),
                Math.min(pruneInterval.toMillis(), 60_000), pruneInterval.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void stop() {
        running = false;
        scheduler.shutdown();
        try {
            scheduler.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        // what this node wrote last is sealed and signed before it goes
        quietly("checkpoint at shutdown", () -> ownCheckpoint("SHUTDOWN"));
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Stops late: after intake and the web server, which write audit rows, so their last rows are sealed. */
    @Override
    public int getPhase() {
        return 0;
    }
}
