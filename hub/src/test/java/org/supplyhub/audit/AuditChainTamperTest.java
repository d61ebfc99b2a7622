package org.supplyhub.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.supplyhub.cli.Cli;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;
import org.supplyhub.support.MigratedDatabase;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The chain against plain-SQL tampering, on PostgreSQL and H2: rows written through {@link AuditLog} (the
 * one insert path), sealed and checkpointed by {@link AuditChain}; then a row updated, deleted, reordered,
 * the chain rewritten, a checkpoint forged, the tail cut → the verifier names the row and what is wrong.
 */
class AuditChainTamperTest {

    static final int ROWS = 60;

    @TempDir
    Path dir;
    MigratedDatabase db;
    JdbcTemplate jdbc;
    AuditChain chain;
    Path publicKey;

    void setUp(String kind) throws Exception {
        db = MigratedDatabase.of(kind);
        jdbc = new JdbcTemplate(db.dataSource);
        Path key = dir.resolve("keys/audit-signing-key.pem");
        SigningKeys.generateIfMissing(key);
        publicKey = SigningKeys.publicKeyFile(key);
        chain = new AuditChain(db.dataSource, new AuditChain.Settings(SigningKeys.load(key), dir.resolve("export"),
                "node-a", 25, List.of()), Clock.systemUTC());
        AuditLog audit = new AuditLog(jdbc);
        for (int i = 0; i < ROWS; i++) {
            audit.record(AuditEvent.of("client:hub-admin", "MESSAGE_READ").target("message " + i).outcome("OK")
                    .detail(i % 7 == 0 ? null : "raw").message(i).patientKey("pk" + (i % 5)).source("10.0.0." + i));
        }
        assertThat(chain.seal()).isEqualTo(ROWS);
        assertThat(chain.checkpoint("PERIODIC", false)).isPresent();
    }

    @AfterEach
    void tearDown() {
        if (db != null) {
            db.close();
        }
    }

    ChainVerifier.Report verify() throws Exception {
        try (Connection con = db.dataSource.getConnection()) {
            return new ChainVerifier(List.of(SigningKeys.readPublicKey(publicKey)),
                    AuditChain.readExport(dir.resolve("export"))).verify(con);
        }
    }

    long idAt(long seq) {
        return jdbc.queryForObject("select id from audit_event where chain_seq = ?", Long.class, seq);
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "h2"})
    void anUntouchedChainVerifiesWithItsSignedExportedCheckpoint(String kind) throws Exception {
        setUp(kind);
        ChainVerifier.Report report = verify();
        assertThat(report.valid()).as(report.problems().toString()).isTrue();
        assertThat(report.rowsVerified()).isEqualTo(ROWS);
        assertThat(report.head().seq()).isEqualTo(ROWS);
        assertThat(report.checkpoints().signaturesValid()).isEqualTo(2); // in the table and in the export
        assertThat(report.checkpoints().exported()).isOne();
        assertThat(report.unsealed().count()).isZero();
        assertThat(chain.checkpoint("PERIODIC", false)).as("nothing moved: no new checkpoint").isEmpty();
        // the chain runs in id order here (one writer), seq 1..ROWS without gaps
        assertThat(jdbc.queryForList("select chain_seq from audit_event order by id", Long.class))
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(1, ROWS).boxed().toList());
        // one JSON line per checkpoint in the export
        Path exported = Files.list(dir.resolve("export")).findFirst().orElseThrow();
        assertThat(exported.getFileName().toString()).startsWith("audit-checkpoints-").endsWith(".jsonl");
        JsonNode line = new ObjectMapper().readTree(Files.readAllLines(exported).get(0));
        assertThat(line.path("seq").asLong()).isEqualTo(ROWS);
        assertThat(line.path("algorithm").asText()).isEqualTo("Ed25519");
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "h2"})
    void anUpdatedRowIsNamed(String kind) throws Exception {
        setUp(kind);
        long id = idAt(17);
        jdbc.update("update audit_event set actor = 'client:someone-else' where id = ?", id);
        ChainVerifier.Report report = verify();
        assertThat(report.valid()).isFalse();
        assertThat(report.firstBrokenRow()).extracting(Problem::kind, Problem::id, Problem::seq)
                .containsExactly(Problem.Kind.CONTENT_CHANGED, id, 17L);
        assertThat(report.problems()).hasSize(1);
        // a checkpoint checks the rows since the last one, and refuses to sign a row changed among them
        AuditLog audit = new AuditLog(jdbc);
        for (int i = 0; i < 3; i++) {
            audit.record("client:x", "MESSAGE_READ", null, "message " + i, "OK", null);
        }
        chain.seal();
        long late = idAt(ROWS + 2);
        jdbc.update("update audit_event set target = 'message 99' where id = ?", late);
        assertThatThrownBy(() -> chain.checkpoint("PERIODIC", false)).isInstanceOf(AuditChain.ChainBrokenException.class)
                .hasMessageContaining("CONTENT_CHANGED at row " + late);
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "h2"})
    void aDeletedRowIsNamed(String kind) throws Exception {
        setUp(kind);
        long next = idAt(31);
        jdbc.update("delete from audit_event where chain_seq = 30");
        ChainVerifier.Report report = verify();
        assertThat(report.firstBrokenRow()).extracting(Problem::kind, Problem::id, Problem::seq)
                .containsExactly(Problem.Kind.ROW_MISSING, next, 31L);
        assertThat(report.firstBrokenRow().detail()).contains("seq 30 is missing");
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "h2"})
    void reorderedRowsAreNamed(String kind) throws Exception {
        setUp(kind);
        long a = idAt(10);
        long b = idAt(11);
        // swap the two rows' places (each keeps its own links)
        jdbc.update("update audit_event set chain_seq = -1 where id = ?", a);
        jdbc.update("update audit_event set chain_seq = 10 where id = ?", b);
        jdbc.update("update audit_event set chain_seq = 11 where id = ?", a);
        ChainVerifier.Report report = verify();
        assertThat(report.firstBrokenRow()).extracting(Problem::kind, Problem::id, Problem::seq)
                .containsExactly(Problem.Kind.ORDER_CHANGED, b, 10L);

        // swap back, then swap the two rows' contents instead: the first is named as changed
        jdbc.update("update audit_event set chain_seq = -1 where id = ?", a);
        jdbc.update("update audit_event set chain_seq = 11 where id = ?", b);
        jdbc.update("update audit_event set chain_seq = 10 where id = ?", a);
        assertThat(verify().valid()).isTrue();
        Map<String, Object> ra = jdbc.queryForMap("select target, source from audit_event where id = ?", a);
        Map<String, Object> rb = jdbc.queryForMap("select target, source from audit_event where id = ?", b);
        jdbc.update("update audit_event set target = ?, source = ? where id = ?", rb.get("target"), rb.get("source"), a);
        jdbc.update("update audit_event set target = ?, source = ? where id = ?", ra.get("target"), ra.get("source"), b);
        report = verify();
        assertThat(report.firstBrokenRow()).extracting(Problem::kind, Problem::id, Problem::seq)
                .containsExactly(Problem.Kind.CONTENT_CHANGED, a, 10L);
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "h2"})
    void aRewrittenChainDisagreesWithTheSignedCheckpoint(String kind) throws Exception {
        setUp(kind);
        long id = idAt(20);
        jdbc.update("update audit_event set detail = 'nothing to see' where id = ?", id);
        // someone who knows the algorithm re-hashes from the edit to the head, and the head too
        String prev = jdbc.queryForObject("select hash from audit_event where chain_seq = 19", String.class);
        for (long seq = 20; seq <= ROWS; seq++) {
            AuditRow row;
            try (Connection con = db.dataSource.getConnection()) {
                row = ChainVerifier.page(con, seq - 1, 1).get(0);
            }
            String hash = ChainHash.of(prev, row);
            jdbc.update("update audit_event set prev_hash = ?, hash = ? where chain_seq = ?", prev, hash, seq);
            prev = hash;
        }
        jdbc.update("update audit_chain_head set hash = ? where id = 1", prev);
        ChainVerifier.Report report = verify();
        assertThat(report.valid()).isFalse();
        assertThat(report.firstBrokenRow()).extracting(Problem::kind, Problem::seq)
                .containsExactly(Problem.Kind.CHECKPOINT_MISMATCH, (long) ROWS);
        // the rewritten head is not signed either
        assertThatThrownBy(() -> chain.checkpoint("ON_DEMAND", true)).isInstanceOf(AuditChain.ChainBrokenException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "h2"})
    void aForgedCheckpointAndACutTailAreNamed(String kind) throws Exception {
        setUp(kind);
        jdbc.update("update audit_checkpoint set seq = seq - 1");
        ChainVerifier.Report forged = verify();
        assertThat(forged.problems()).anySatisfy(p -> assertThat(p.kind())
                .isEqualTo(Problem.Kind.CHECKPOINT_SIGNATURE_INVALID));
        jdbc.update("update audit_checkpoint set seq = seq + 1");
        assertThat(verify().valid()).isTrue();

        // the last five rows deleted and the head set back: the signed checkpoint still covers them
        String hash55 = jdbc.queryForObject("select hash from audit_event where chain_seq = 55", String.class);
        jdbc.update("delete from audit_event where chain_seq > 55");
        jdbc.update("update audit_chain_head set seq = 55, hash = ? where id = 1", hash55);
        ChainVerifier.Report cut = verify();
        assertThat(cut.problems()).anySatisfy(p -> {
            assertThat(p.kind()).isEqualTo(Problem.Kind.ROW_MISSING);
            assertThat(p.seq()).isEqualTo(56L);
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "h2"})
    void retentionPruneKeepsTheChainVerifiableFromASignedAnchor(String kind) throws Exception {
        setUp(kind);
        Instant old = Instant.parse("2019-01-01T00:00:00Z");
        // rows written after sealing get a later place; make the first 40 places old (as if written in 2019)
        // by writing them again before sealing in a fresh chain is not possible, so age them and re-seal
        jdbc.update("update audit_event set at = ? where chain_seq <= 40", Timestamp.from(old));
        reseal();
        chain.checkpoint("PERIODIC", true);
        assertThat(verify().valid()).isTrue();

        AuditChain.Pruned pruned = chain.prune(Instant.parse("2020-01-01T00:00:00Z"), 25);
        assertThat(pruned.rows()).isEqualTo(25);
        pruned = chain.prune(Instant.parse("2020-01-01T00:00:00Z"), 25);
        assertThat(pruned).isEqualTo(new AuditChain.Pruned(15, 40));
        assertThat(chain.prune(Instant.parse("2020-01-01T00:00:00Z"), 25).rows()).isZero();
        assertThat(jdbc.queryForObject("select count(*) from audit_event", Integer.class)).isEqualTo(ROWS - 40);

        ChainVerifier.Report report = verify();
        assertThat(report.valid()).as(report.problems().toString()).isTrue();
        assertThat(report.anchor().seq()).isEqualTo(40);
        assertThat(report.rowsVerified()).isEqualTo(ROWS - 40);
        // new rows after the prune chain on
        new AuditLog(jdbc).record("client:x", "MESSAGE_READ", null, "message 1", "OK", null);
        chain.seal();
        assertThat(chain.checkpoint("PERIODIC", false)).isPresent();
        assertThat(verify().valid()).isTrue();

        // an anchor moved by hand (rows removed outside the prune) is not covered by any signature
        String hash45 = jdbc.queryForObject("select hash from audit_event where chain_seq = 45", String.class);
        jdbc.update("delete from audit_event where chain_seq <= 45");
        jdbc.update("update audit_chain_head set anchor_seq = 45, anchor_hash = ? where id = 1", hash45);
        assertThat(verify().problems()).extracting(Problem::kind).contains(Problem.Kind.ANCHOR_UNSIGNED);
        assertThatThrownBy(() -> chain.checkpoint("PERIODIC", true)).isInstanceOf(AuditChain.ChainBrokenException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"postgres", "h2"})
    void verifyAuditCommandPrintsTheReportAndExitsOneWhenBroken(String kind) throws Exception {
        setUp(kind);
        jdbc.update("insert into audit_event (at, actor, action, outcome) values (current_timestamp, 'x', 'X', 'OK')");
        String[] args = {"verify-audit", "--url", db.url, "--user", db.user, "--public-key", publicKey.toString(),
                "--checkpoints", dir.resolve("export").toString()};
        Result ok = cli(args);
        assertThat(ok.code()).as(ok.err()).isEqualTo(Cli.OK);
        JsonNode report = new ObjectMapper().readTree(ok.out());
        assertThat(report.path("valid").asBoolean()).isTrue();
        assertThat(report.path("rowsVerified").asLong()).isEqualTo(ROWS);
        assertThat(report.path("unsealed").path("count").asLong()).isOne();

        long id = idAt(5);
        jdbc.update("update audit_event set outcome = '403' where id = ?", id);
        Result broken = cli(args);
        assertThat(broken.code()).isEqualTo(Cli.FAILED);
        JsonNode first = new ObjectMapper().readTree(broken.out()).path("firstBrokenRow");
        assertThat(first.path("id").asLong()).isEqualTo(id);
        assertThat(first.path("seq").asLong()).isEqualTo(5);
        assertThat(first.path("kind").asText()).isEqualTo("CONTENT_CHANGED");
    }

    /** What sealing and verifying cost, per 1,000 rows (printed for the README; bounded loosely). */
    @ParameterizedTest
    @ValueSource(strings = {"postgres", "h2"})
    void sealingCostPerThousandRows(String kind) throws Exception {
        setUp(kind);
        int n = 10_000;
        List<Object[]> rows = new java.util.ArrayList<>();
        Timestamp now = Timestamp.from(Instant.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS));
        for (int i = 0; i < n; i++) {
            rows.add(new Object[] {now, "client:hub-admin", "MESSAGE_READ", "mercy-or", "message " + i, "OK", "raw",
                    (long) i, "k".repeat(64), "10.0.0.1"});
        }
        jdbc.batchUpdate("insert into audit_event (at, actor, action, interface_id, target, outcome, detail, message_id,"
                + " patient_key, source) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows);
        long t0 = System.nanoTime();
        assertThat(chain.seal()).isEqualTo(n);
        long sealMs = (System.nanoTime() - t0) / 1_000_000;
        t0 = System.nanoTime();
        assertThat(chain.checkpoint("PERIODIC", false)).isPresent();
        long checkpointMs = (System.nanoTime() - t0) / 1_000_000;
        ChainVerifier.Report report = verify();
        assertThat(report.valid()).isTrue();
        System.out.printf("Audit chain on %s: sealed %,d rows in %,d ms (%.1f ms per 1,000); checkpoint over them %,d ms;"
                        + " verify of %,d rows %,d ms (%.1f ms per 1,000)%n", kind, n, sealMs, sealMs * 1000.0 / n,
                checkpointMs, report.rowsVerified(), report.millis(), report.millis() * 1000.0 / report.rowsVerified());
        assertThat(sealMs).isLessThan(120_000);
    }

    /** Clears the chain and seals it again (test set-up only: what the sealer would have done at first). */
    private void reseal() throws Exception {
        jdbc.update("update audit_event set chain_seq = null, prev_hash = null, hash = null");
        jdbc.update("delete from audit_checkpoint");
        try (var files = Files.list(dir.resolve("export"))) {
            for (Path f : files.toList()) {
                Files.delete(f);
            }
        }
        jdbc.update("update audit_chain_head set seq = 0, hash = ? where id = 1", ChainHash.GENESIS);
        chain.seal();
    }

    record Result(int code, String out, String err) { }

    private static Result cli(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Cli.run(args, new ByteArrayInputStream(new byte[0]), new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
