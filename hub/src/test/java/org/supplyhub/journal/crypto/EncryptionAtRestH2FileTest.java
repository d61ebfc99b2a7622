package org.supplyhub.journal.crypto;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.supplyhub.SupplyHubApplication;
import org.supplyhub.support.Await;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The default run (embedded H2 in a file, no key configured): the hub generates its KEK once, owner-only,
 * and says so once; data/ and the H2 files are owner-only; after shutdown the raw bytes of hub.mv.db
 * hold none of the samples' patient data; a start with a wrong key fails with a message naming the
 * property; a start with the right one reads the messages back.
 */
@ExtendWith(OutputCaptureExtension.class)
class EncryptionAtRestH2FileTest {

    static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dir;

    @Test
    void theDatabaseFileHoldsNoPatientDataInClearAndAWrongKeyStopsTheStart(CapturedOutput output) throws Exception {
        Path data = dir.resolve("data");
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        Map<String, String> sent = new LinkedHashMap<>();
        Map<String, Long> ids = new LinkedHashMap<>();
        int port = TestInterfaces.freePort();
        try (ConfigurableApplicationContext hub = start(data, interfaces, port, null)) {
            JdbcTemplate jdbc = hub.getBean(JdbcTemplate.class);
            for (String[] s : List.of(new String[] {Samples.MERCY, "mercy-or", Tokens.MERCY},
                    new String[] {Samples.MERCY_CREDIT, "mercy-or", Tokens.MERCY},
                    new String[] {Samples.LAKESIDE, "lakeside-cath", Tokens.LAKESIDE})) {
                String er7 = Samples.withControlId(Samples.read(s[0]), "H" + UUID.randomUUID().toString().substring(0, 18));
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hl7/" + s[1]))
                        .header("Authorization", "Bearer " + Tokens.sample(port, s[2], "ingest:" + s[1]))
                        .header("Content-Type", "application/hl7-v2; charset=UTF-8")
                        .POST(HttpRequest.BodyPublishers.ofString(er7)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.body()).contains("MSA|AA");
                sent.put(s[0], er7);
                ids.put(s[0], jdbc.queryForObject("select id from message where control_id = ?", Long.class,
                        Samples.controlId(er7)));
            }
            Await.until(() -> jdbc.queryForObject("select count(*) from outbox where status = 'PENDING'", Integer.class) == 0, 30);
        }
        Path file = data.resolve("hub.mv.db");
        Path kek = data.resolve("journal.kek");
        assertThat(Files.getPosixFilePermissions(data)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Files.getPosixFilePermissions(file)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(kek)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        byte[] bytes = Files.readAllBytes(file);
        assertThat(bytes.length).isGreaterThan(10_000);
        assertThat(PhiScan.findIn("hub.mv.db", bytes)).as("patient data in the H2 file").isEmpty();
        assertThat(new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1)).contains("journal_key".toUpperCase());

        // a wrong key: the start stops, naming the property, before anything is stored
        Path wrong = dir.resolve("wrong.kek");
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Files.writeString(wrong, Base64.getEncoder().encodeToString(key));
        assertThatThrownBy(() -> start(data, interfaces, TestInterfaces.freePort(), "file:" + wrong).close())
                .satisfies(e -> {
                    JournalKeyException cause = find(e);
                    assertThat(cause.getMessage()).startsWith("hub.journal.encryption.key (KEK " + KeyRing.idOf(key))
                            .contains("is not the key this journal's data keys are wrapped with");
                    FailureAnalysis analysis = new JournalKeyFailureAnalyzer().analyze(e);
                    assertThat(analysis.getDescription()).startsWith("The journal's encryption keys are not usable:");
                    assertThat(analysis.getAction()).contains("Set hub.journal.encryption.key to file:PATH or env:NAME");
                });
        assertThat(Files.readString(kek).strip()).isNotEqualTo(Base64.getEncoder().encodeToString(key));

        // the right key (the generated one, again by default): every message reads back intact
        int again = TestInterfaces.freePort();
        try (ConfigurableApplicationContext hub = start(data, interfaces, again, null)) {
            for (Map.Entry<String, Long> e : ids.entrySet()) {
                HttpResponse<String> raw = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + again
                                + "/api/messages/" + e.getValue() + "/raw"))
                        .header("Authorization", "Bearer " + Tokens.sample(again, Tokens.ADMIN, "messages:read")).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(raw.body()).isEqualTo(sent.get(e.getKey()).replace('\r', '\n'));
            }
        }
        // generated once, said once, and never with the key in the log
        assertThat(output.getAll().split("generated a key-encryption key", -1)).hasSize(2);
        assertThat(output.getAll()).doesNotContain(Files.readString(kek).strip());
    }

    static ConfigurableApplicationContext start(Path data, TestInterfaces interfaces, int port, String key) {
        List<String> args = new ArrayList<>(List.of(
                "--spring.datasource.url=jdbc:h2:file:" + data.resolve("hub") + ";DB_CLOSE_ON_EXIT=FALSE",
                "--spring.datasource.username=sa", "--spring.datasource.password=",
                "--server.port=" + port,
                "--hub.routes-dir=" + interfaces.routesDir, "--hub.mappings-dir=" + interfaces.mappingsDir,
                "--hub.config.watch=false"));
        // null: the generated default key beside the database (clears the test KEK of application.properties)
        args.add("--hub.journal.encryption.key=" + (key == null ? "" : key));
        return new SpringApplicationBuilder(SupplyHubApplication.class).run(args.toArray(String[]::new));
    }

    static JournalKeyException find(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof JournalKeyException k) {
                return k;
            }
        }
        throw new AssertionError("no JournalKeyException in " + e);
    }
}
