package org.supplyhub.journal.crypto;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.admin.RotateKeyCommand;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.support.Await;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Issue 14, encryption at rest, against a running hub on PostgreSQL: the samples are stored (mapped,
 * credited, on both interfaces, one not mapped, one flagged), then every text and bytea column of every
 * table is read with SQL and none holds the samples' MRNs, names, birth dates, accounts or serials, in
 * clear or merely encoded; the admin API returns them intact, the device search by lot and serial works;
 * rotate-key re-wraps every key under a new KEK, old messages stay readable without the old KEK, and a
 * journal opened with a wrong key refuses to start.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EncryptionAtRestPostgresTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final Map<String, String> DB = TestDatabases.postgresOwnKek();
    static final Path KEYS = tempDir();
    static final Path KEK1 = kek("kek1");
    static final Path KEK2 = kek("kek2");
    static final Path MAPPINGS = copyOfMappings();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();
    static final String KNEE = "00889024123458";
    static final Map<String, Long> IDS = new LinkedHashMap<>();
    static final Map<String, String> SENT = new LinkedHashMap<>();

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    IntakeService intake;
    @Autowired
    RunningConfig config;
    @Autowired
    JournalKeys keys;
    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws IOException {
        Files.writeString(MAPPINGS.resolve("mercy-safety.yaml"), Files.readString(MAPPINGS.resolve("mercy-or.yaml"))
                + "\nsafety:\n  expired: { action: flag, holdCharge: true }\n");
        Files.writeString(INTERFACES.routesDir.resolve("safety.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: safety-or }
                      - { name: mapping, value: mercy-safety.yaml }
                      - { name: destinations, value: "mercy-billing" }
                """);
        registry.add("hub.routes-dir", INTERFACES.routesDir::toString);
        registry.add("hub.mappings-dir", MAPPINGS::toString);
        registry.add("hub.journal.encryption.key", () -> "file:" + KEK1);
        DB.forEach((k, v) -> registry.add(k, () -> v));
    }

    @Test
    @Order(1)
    void storedSamplesLeaveNoPatientDataInClearInAnyColumnYetTheApiReturnsThemIntact() throws Exception {
        send("mercy", "mercy-or", Tokens.MERCY, fresh(Samples.MERCY));
        send("credit", "mercy-or", Tokens.MERCY, fresh(Samples.MERCY_CREDIT));
        send("lakeside", "lakeside-cath", Tokens.LAKESIDE, fresh(Samples.LAKESIDE));
        // a message that does not map (an unknown DI): an ERROR row, still findable by its MRN
        send("unmapped", "mercy-or", Tokens.MERCY, fresh(Samples.MERCY).replace("(01)00889024123458", "(01)00889024123459"));
        // an expired implant on a profile that flags it: an implant_flag row with its lot and serial
        String expired = fresh(Samples.MERCY).replace("(17)300101", "(17)200101").replace("|20300101|", "|20200101|");
        assertThat(intake.receive(config.find("safety-or").orElseThrow(), expired.getBytes(StandardCharsets.UTF_8),
                null, "test").ackCode()).isEqualTo("AA");
        SENT.put("flagged", expired);
        IDS.put("flagged", id(Samples.controlId(expired)));
        assertThat(jdbc.queryForObject("select count(*) from implant_flag", Integer.class)).isPositive();
        Await.until(() -> jdbc.queryForObject("select count(*) from outbox where status = 'PENDING' and release_line is null"
                + " and message_id not in (select message_id from implant_flag)", Integer.class) == 0, 30);

        // every text and binary column of every table, read as the database holds it
        List<String> found = new ArrayList<>();
        String schema = DB.get("spring.flyway.default-schema");
        List<Map<String, Object>> columns = jdbc.queryForList("select table_name, column_name from information_schema.columns"
                + " where table_schema = ? and data_type in ('text', 'character varying', 'bytea', 'character')", schema);
        assertThat(columns).extracting(c -> c.get("table_name") + "." + c.get("column_name"))
                .contains("message.raw", "message.usage_json", "message_output.resource_json", "device_use.serial",
                        "implant_flag.detail", "audit_event.detail", "outbox.ordering_key");
        int values = 0;
        for (Map<String, Object> c : columns) {
            String where = c.get("table_name") + "." + c.get("column_name");
            for (Object v : jdbc.queryForList("select " + c.get("column_name") + " from " + c.get("table_name"), Object.class)) {
                values++;
                found.addAll(v instanceof byte[] b ? PhiScan.findIn(where, b) : PhiScan.findIn(where, String.valueOf(v)));
            }
        }
        assertThat(values).isGreaterThan(100);
        assertThat(found).as("patient data in clear in the database").isEmpty();
        assertThat(jdbc.queryForList("select raw from message", byte[].class)).allMatch(Aead::isSealed);
        // FHIR resources are rendered from the sealed usage when asked for, never journaled (issue 16)
        assertThat(jdbc.queryForList("select resource_json from message_output", String.class)).isEmpty();
        assertThat(jdbc.queryForList("select usage_json from message where usage_json is not null", String.class))
                .isNotEmpty().allMatch(Aead::isSealed);

        // ... yet the admin API answers with the message as received, and its outputs
        for (String name : List.of("mercy", "credit", "lakeside", "unmapped", "flagged")) {
            HttpResponse<String> raw = get("/api/messages/" + IDS.get(name) + "/raw");
            assertThat(raw.statusCode()).isEqualTo(200);
            assertThat(raw.body()).isEqualTo(SENT.get(name).replace('\r', '\n'));
        }
        String outputs = get("/api/messages/" + IDS.get("mercy") + "/outputs").body();
        assertThat(outputs).contains("MRN448812").contains("SN00042519");
        JsonNode unmapped = JSON.readTree(get("/api/messages/" + IDS.get("unmapped")).body());
        assertThat(unmapped.path("message").path("status").asText()).isEqualTo("ERROR");
        assertThat(unmapped.path("message").path("error").asText()).isNotBlank().doesNotStartWith("enc1:");
        JsonNode flagged = JSON.readTree(get("/api/messages/" + IDS.get("flagged")).body());
        assertThat(flagged.path("flags").get(0).path("serial").asText()).isEqualTo("SN00042519");
        assertThat(flagged.path("flags").get(0).path("detail").asText()).contains("SN00042519");

        // a failed message is found by its MRN too (its PID read for the keyed hash)
        JsonNode byMrn = JSON.readTree(get("/api/messages?patient=MRN448812&limit=50").body());
        List<Long> ids = new ArrayList<>();
        byMrn.forEach(m -> ids.add(m.path("id").asLong()));
        assertThat(ids).contains(IDS.get("mercy"), IDS.get("credit"), IDS.get("unmapped"), IDS.get("flagged"))
                .doesNotContain(IDS.get("lakeside"));
        assertThat(JSON.readTree(get("/api/messages?account=FIN77120045").body()).get(0).path("id").asLong())
                .isEqualTo(IDS.get("lakeside"));

        // the recall team's question still answers through the keyed lot and serial
        JsonNode byLot = JSON.readTree(get("/api/devices?di=" + KNEE + "&lot=lot7781a").body());
        assertThat(byLot.path("count").asInt()).isGreaterThanOrEqualTo(2); // the charge and its credit
        assertThat(byLot.path("uses").get(0).path("patient").path("value").asText()).isEqualTo("MRN448812");
        assertThat(byLot.path("uses").get(0).path("device").path("serial").asText()).isEqualTo("SN00042519");
        JsonNode bySerial = JSON.readTree(get("/api/devices?di=00643169001763&serial=21A11F4855").body());
        assertThat(bySerial.path("count").asInt()).isOne();
        assertThat(bySerial.path("uses").get(0).path("account").asText()).isEqualTo("FIN77120045");

        // what the file connector wrote: owner-only, in folders the hub made owner-only
        Path out = INTERFACES.outDir;
        assertThat(Files.getPosixFilePermissions(out)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        try (Stream<Path> files = Files.walk(out)) {
            List<Path> all = files.toList();
            assertThat(all.stream().filter(Files::isRegularFile)).isNotEmpty().allSatisfy(f ->
                    assertThat(Files.getPosixFilePermissions(f)).isEqualTo(PosixFilePermissions.fromString("rw-------")));
            assertThat(all.stream().filter(Files::isDirectory)).allSatisfy(d ->
                    assertThat(Files.getPosixFilePermissions(d)).isEqualTo(PosixFilePermissions.fromString("rwx------")));
        }
    }

    @Test
    @Order(2)
    void rotateKeyRewrapsEveryKeyUnderTheNewKekAndOldMessagesStayReadableWithoutTheOldOne() throws Exception {
        String kek1 = KeyRing.idOf(read(KEK1));
        String kek2 = KeyRing.idOf(read(KEK2));
        assertThat(jdbc.queryForList("select distinct kek_id from journal_key", String.class)).containsExactly(kek1);
        int total = jdbc.queryForObject("select count(*) from journal_key", Integer.class);

        List<String> args = new ArrayList<>();
        DB.forEach((k, v) -> args.add("--" + k + "=" + v));
        args.add("--hub.journal.encryption.key=file:" + KEK2);
        args.add("--hub.journal.encryption.old-keys=file:" + KEK1);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = RotateKeyCommand.run(args.toArray(String[]::new), new PrintStream(out, true), new PrintStream(err, true));
        assertThat(code).as(err.toString()).isZero();
        assertThat(out.toString()).contains("active KEK " + kek2 + "; " + total + " journal key(s) re-wrapped, 0 already under it");
        assertThat(jdbc.queryForList("select distinct kek_id from journal_key", String.class)).containsExactly(kek2);

        // idempotent
        out.reset();
        assertThat(RotateKeyCommand.run(args.toArray(String[]::new), new PrintStream(out, true), new PrintStream(err, true))).isZero();
        assertThat(out.toString()).contains("0 journal key(s) re-wrapped, " + total + " already under it");

        // a node started with the new KEK alone reads the old messages, and its new data keys are under it
        JournalKeys restarted = new JournalKeys(jdbc, KeyRing.parse("file:" + KEK2, "", System::getenv), true, Clock.systemUTC());
        byte[] raw = jdbc.queryForObject("select raw from message where id = ?", byte[].class, IDS.get("mercy"));
        assertThat(new String(restarted.open(Column.MESSAGE_RAW, raw), StandardCharsets.UTF_8)).isEqualTo(SENT.get("mercy"));
        assertThat(restarted.of("MRN448812")).isEqualTo(keys.of("MRN448812")); // the search key did not change
        byte[] fresh = restarted.seal(Column.MESSAGE_RAW, "MSH|new".getBytes(StandardCharsets.UTF_8));
        assertThat(jdbc.queryForObject("select kek_id from journal_key where id = ?", String.class, Aead.keyId(fresh)))
                .isEqualTo(kek2);
    }

    @Test
    @Order(3)
    void aWrongKeyRefusesToStartNamingThePropertyAndAMissingOldKeyToo() {
        byte[] wrong = new byte[32];
        new SecureRandom().nextBytes(wrong);
        assertThatThrownBy(() -> new JournalKeys(jdbc, KeyRing.of(wrong, List.of()), true, Clock.systemUTC()))
                .isInstanceOf(JournalKeyException.class)
                .hasMessageStartingWith("hub.journal.encryption.key (KEK " + KeyRing.idOf(wrong))
                .hasMessageContaining("is not the key this journal's data keys are wrapped with (KEK " + KeyRing.idOf(read(KEK2)));
        // rotate-key without the KEK the keys are under fails the same way, touching nothing
        List<String> args = new ArrayList<>();
        DB.forEach((k, v) -> args.add("--" + k + "=" + v));
        args.add("--hub.journal.encryption.key=file:" + KEK1);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertThat(RotateKeyCommand.run(args.toArray(String[]::new), new PrintStream(new ByteArrayOutputStream()),
                new PrintStream(err, true))).isOne();
        assertThat(err.toString()).startsWith("rotate-key: hub.journal.encryption.key (KEK " + KeyRing.idOf(read(KEK1)));
    }

    // --- helpers

    void send(String name, String interfaceId, String client, String er7) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hl7/" + interfaceId))
                .header("Authorization", "Bearer " + Tokens.sample(port, client, "ingest:" + interfaceId))
                .header("Content-Type", "application/hl7-v2; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(er7)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.body()).contains(name.equals("unmapped") ? "MSA|AE" : "MSA|AA");
        SENT.put(name, er7);
        IDS.put(name, id(Samples.controlId(er7)));
    }

    long id(String controlId) {
        return jdbc.queryForObject("select max(id) from message where control_id = ?", Long.class, controlId);
    }

    HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + Tokens.sample(port, Tokens.ADMIN, "messages:read")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    static String fresh(String sample) {
        return Samples.withControlId(Samples.read(sample), "E" + UUID.randomUUID().toString().substring(0, 18));
    }

    static byte[] read(Path kek) {
        try {
            return Base64.getDecoder().decode(Files.readString(kek).strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path tempDir() {
        try {
            return Files.createTempDirectory("hub-keys");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path kek(String name) {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Path file = KEYS.resolve(name);
        try {
            OwnerOnlyFiles.write(file, Base64.getEncoder().encode(key));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    static Path copyOfMappings() {
        try {
            Path shipped = TestInterfaces.projectRoot().resolve("mappings");
            Path copy = Files.createTempDirectory("hub-mappings");
            try (Stream<Path> files = Files.walk(shipped)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    Path target = copy.resolve(shipped.relativize(f).toString());
                    Files.createDirectories(target.getParent());
                    Files.copy(f, target);
                }
            }
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
