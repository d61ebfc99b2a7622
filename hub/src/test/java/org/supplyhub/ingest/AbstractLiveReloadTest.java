package org.supplyhub.ingest;

import org.supplyhub.support.JournalColumns;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.config.ConfigFiles;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Live reload against a running hub (real MLLP and HTTP sockets, real tokens, a real database: the
 * subclasses pick which), on copies of the shipped {@code routes/} and {@code mappings/} that the
 * tests edit as an engineer would.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
abstract class AbstractLiveReloadTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final Path MAPPINGS = copyOfMappings();
    static final Path ROUTES = INTERFACES.routesDir;
    static final String MERCY_PROFILE = readString(MAPPINGS.resolve("mercy-or.yaml"));
    static final String LOCATION_RULE = "location: { join: [FT1-16-1, FT1-16-2, FT1-16-3], separator: \"-\" }";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    JournalKeys keys;

    @LocalServerPort
    int httpPort;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("hub.routes-dir", ROUTES::toString);
        registry.add("hub.mappings-dir", MAPPINGS::toString);
    }

    static void database(DynamicPropertyRegistry registry, Map<String, String> props) {
        props.forEach((k, v) -> registry.add(k, () -> v));
    }

    /** Each test leaves the shipped set running, whatever it changed. */
    @AfterEach
    void restoreShippedSet() throws Exception {
        Files.deleteIfExists(ROUTES.resolve("extra.yaml"));
        Files.writeString(MAPPINGS.resolve("mercy-or.yaml"), MERCY_PROFILE);
        HttpResponse<String> response = reload(adminToken());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    }

    @Test
    void sendsContinuouslyAcrossTenReloadsWithoutLosingOrDuplicatingAMessage() throws Exception {
        assertThat(MERCY_PROFILE).contains(LOCATION_RULE);
        String sample = Samples.read(Samples.MERCY);
        int mercyPort = INTERFACES.ports.get("mercy-or");
        int extraPort = TestInterfaces.freePort();
        AtomicBoolean stop = new AtomicBoolean();
        List<String> problems = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger mllpSent = new AtomicInteger();
        AtomicInteger httpSent = new AtomicInteger();

        // one MLLP connection that stays open across every reload, and one HTTP sender beside it
        Thread mllpSender = new Thread(() -> {
            try (Mllp mllp = new Mllp(mercyPort)) {
                for (int n = 0; !stop.get(); n++) {
                    String id = "LRM-" + n;
                    String ack = mllp.send(Samples.withControlId(sample, id), StandardCharsets.UTF_8);
                    check(id, ack, problems);
                    mllpSent.incrementAndGet();
                }
            } catch (IOException e) {
                problems.add("MLLP sender: " + e);
            }
        });
        String ingestToken = Tokens.sample(httpPort, Tokens.MERCY, "ingest:mercy-or");
        Thread httpSender = new Thread(() -> {
            for (int n = 0; !stop.get(); n++) {
                String id = "LRH-" + n;
                try {
                    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                                    URI.create("http://127.0.0.1:" + httpPort + "/hl7/mercy-or"))
                            .header("Authorization", "Bearer " + ingestToken)
                            .header("Content-Type", "application/hl7-v2; charset=UTF-8")
                            .POST(HttpRequest.BodyPublishers.ofString(Samples.withControlId(sample, id))).build(),
                            HttpResponse.BodyHandlers.ofString());
                    if (response.statusCode() != 200) {
                        problems.add(id + ": HTTP " + response.statusCode());
                    }
                    check(id, response.body(), problems);
                    httpSent.incrementAndGet();
                } catch (IOException | InterruptedException e) {
                    problems.add(id + ": " + e);
                    return;
                }
            }
        });
        mllpSender.start();
        httpSender.start();
        String admin = adminToken();
        try {
            for (int i = 0; i < 10; i++) {
                Thread.sleep(150);
                if (i % 2 == 0) { // the mapping changes: the location's separator flips between - and /
                    String separator = i % 4 == 0 ? "/" : "-";
                    Files.writeString(MAPPINGS.resolve("mercy-or.yaml"),
                            MERCY_PROFILE.replace(LOCATION_RULE, LOCATION_RULE.replace("\"-\"", "\"" + separator + "\"")));
                } else if (i % 4 == 1) { // an interface is added …
                    Files.writeString(ROUTES.resolve("extra.yaml"), extraInterface(extraPort, "mapping"));
                } else { // … and removed again
                    Files.delete(ROUTES.resolve("extra.yaml"));
                }
                HttpResponse<String> response = reload(admin);
                assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
                assertThat(JSON.readTree(response.body()).path("outcome").asText()).isEqualTo("APPLIED");
            }
            Thread.sleep(300);
        } finally {
            stop.set(true);
            mllpSender.join(30_000);
            httpSender.join(30_000);
        }

        assertThat(problems).isEmpty();
        int sent = mllpSent.get() + httpSent.get();
        assertThat(mllpSent.get()).isGreaterThan(10);
        assertThat(httpSent.get()).isGreaterThan(10);
        // every message journaled exactly once, accepted
        String ours = "(control_id like 'LRM-%' or control_id like 'LRH-%')";
        assertThat(count("select count(*) from message where " + ours)).isEqualTo(sent);
        assertThat(count("select count(distinct control_id) from message where " + ours)).isEqualTo(sent);
        assertThat(count("select count(*) from message where status = 'ACCEPTED' and " + ours)).isEqualTo(sent);
        // one outbox row per destination of each message: no message half-journaled
        assertThat(count("select count(*) from outbox o join message m on m.id = o.message_id where " + ours))
                .isEqualTo(3 * sent);
        // and mapped whole by one set or the other: each message's three lines carry one separator
        for (String usage : new JournalColumns(jdbc, keys).texts(Column.MESSAGE_USAGE, "select usage_json from message where " + ours)) {
            boolean dash = usage.contains("OR-03-A");
            boolean slash = usage.contains("OR/03/A");
            assertThat(dash ^ slash).as("one mapping per message").isTrue();
        }

        // the last set runs: the mapping of reload 8 (separator /) and the interface added by reload 9
        String id = "LR-after";
        try (Mllp mllp = new Mllp(mercyPort)) {
            assertThat(ackCode(mllp.send(Samples.withControlId(sample, id), StandardCharsets.UTF_8))).isEqualTo("AA");
        }
        assertThat(new JournalColumns(jdbc, keys).text(Column.MESSAGE_USAGE, "select usage_json from message where control_id = ?", id))
                .contains("OR/03/A").doesNotContain("OR-03-A");
        try (Mllp mllp = new Mllp(extraPort)) {
            assertThat(ackCode(mllp.send(Samples.withControlId(sample, "LRX-1"), StandardCharsets.UTF_8))).isEqualTo("AA");
        }
        assertThat(jdbc.queryForObject("select interface_id from message where control_id = 'LRX-1'", String.class))
                .isEqualTo("extra-or");
    }

    @Test
    void addingAnInterfaceFileStartsItsListenerAndRemovingItStopsIt() throws Exception {
        int port = TestInterfaces.freePort();
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);

        Files.writeString(ROUTES.resolve("extra.yaml"), extraInterface(port, "mapping"));
        HttpResponse<String> added = reload(adminToken());
        assertThat(added.statusCode()).as(added.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(added.body());
        assertThat(body.path("started").toString()).contains("interface:extra-or");
        assertThat(body.path("restarted").size()).isZero(); // the running interfaces were left alone
        try (Mllp mllp = new Mllp(port)) {
            String ack = mllp.send(Samples.withControlId(Samples.read(Samples.MERCY), "LRC-1"), StandardCharsets.UTF_8);
            assertThat(ackCode(ack)).isEqualTo("AA");
        }
        assertThat(configInterfaces()).contains("extra-or");

        Files.delete(ROUTES.resolve("extra.yaml"));
        HttpResponse<String> removed = reload(adminToken());
        assertThat(removed.statusCode()).as(removed.body()).isEqualTo(200);
        assertThat(JSON.readTree(removed.body()).path("stopped").toString()).contains("interface:extra-or");
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
        assertThat(configInterfaces()).doesNotContain("extra-or");
        // its HTTP endpoint went with it
        assertThat(postHttp("extra-or", Tokens.sample(httpPort, Tokens.MERCY, "ingest:mercy-or")).statusCode())
                .isIn(403, 404);
    }

    @Test
    void aChangedPortRestartsThatListenerOnlyAndAPortInUseLeavesTheRunningSet() throws Exception {
        int first = TestInterfaces.freePort();
        Files.writeString(ROUTES.resolve("extra.yaml"), extraInterface(first, "mapping"));
        assertThat(reload(adminToken()).statusCode()).isEqualTo(200);
        String sample = Samples.read(Samples.MERCY);

        try (Mllp mercy = new Mllp(INTERFACES.ports.get("mercy-or"));
             java.net.ServerSocket taken = new java.net.ServerSocket()) {
            taken.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
            // the new port is taken by another program: the set cannot start, the running one stays
            Files.writeString(ROUTES.resolve("extra.yaml"), extraInterface(taken.getLocalPort(), "mapping"));
            HttpResponse<String> failed = reload(adminToken());
            assertThat(failed.statusCode()).as(failed.body()).isEqualTo(409);
            assertThat(JSON.readTree(failed.body()).path("problems").toString())
                    .contains("routes/extra.yaml: interface extra-or cannot be started");
            try (Mllp extra = new Mllp(first)) {
                assertThat(ackCode(extra.send(Samples.withControlId(sample, "LRP-1"), StandardCharsets.UTF_8))).isEqualTo("AA");
            }
            assertThat(config().path("files").path("routes/extra.yaml").asText())
                    .isEqualTo(ConfigFiles.sha256(extraInterface(first, "mapping").getBytes(StandardCharsets.UTF_8)));

            // a free port: only that listener restarts; a connection to another interface is not touched
            int second = TestInterfaces.freePort();
            Files.writeString(ROUTES.resolve("extra.yaml"), extraInterface(second, "mapping"));
            HttpResponse<String> moved = reload(adminToken());
            assertThat(moved.statusCode()).as(moved.body()).isEqualTo(200);
            assertThat(JSON.readTree(moved.body()).path("restarted").toString()).isEqualTo("[\"interface:extra-or\"]");
            assertThatThrownBy(() -> new Socket("127.0.0.1", first).close()).isInstanceOf(ConnectException.class);
            try (Mllp extra = new Mllp(second)) {
                assertThat(ackCode(extra.send(Samples.withControlId(sample, "LRP-2"), StandardCharsets.UTF_8))).isEqualTo("AA");
            }
            assertThat(ackCode(mercy.send(Samples.withControlId(sample, "LRP-3"), StandardCharsets.UTF_8))).isEqualTo("AA");
        }
    }

    @Test
    void anInvalidSetIsRefusedWithItsFileAndLineAndTheRunningSetKeepsWorking() throws Exception {
        int port = TestInterfaces.freePort();
        String profile = MERCY_PROFILE.replace("  quantity: FT1-10", "  quantty: FT1-10");
        Files.writeString(MAPPINGS.resolve("mercy-or.yaml"), profile);
        Files.writeString(ROUTES.resolve("extra.yaml"), extraInterface(port, "mapping"));
        int line = lineOf(profile, "quantty");

        HttpResponse<String> response = reload(adminToken());

        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("application/problem+json"));
        JsonNode problem = JSON.readTree(response.body());
        assertThat(problem.path("problems").toString())
                .contains("mappings/mercy-or.yaml: line " + line + ": unknown key 'quantty'");
        assertThat(problem.path("problems").toString()).doesNotContain("Exception").doesNotContain("\\tat ");
        // nothing of the new set runs: not the new listener, not the broken profile
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
        try (Mllp mllp = new Mllp(INTERFACES.ports.get("mercy-or"))) {
            String ack = mllp.send(Samples.withControlId(Samples.read(Samples.MERCY), "LRB-1"), StandardCharsets.UTF_8);
            assertThat(ackCode(ack)).isEqualTo("AA");
        }
        assertThat(configInterfaces()).doesNotContain("extra-or");
        assertThat(jdbc.queryForObject("select outcome from audit_event where action = 'CONFIG_RELOAD' order by id desc"
                + " fetch first 1 rows only", String.class)).isEqualTo("REFUSED");

        // a misspelt template parameter in a routes file is named by its file and line too
        Files.writeString(MAPPINGS.resolve("mercy-or.yaml"), MERCY_PROFILE);
        String routes = extraInterface(port, "mappping");
        Files.writeString(ROUTES.resolve("extra.yaml"), routes);
        response = reload(adminToken());
        assertThat(response.statusCode()).isEqualTo(422);
        assertThat(JSON.readTree(response.body()).path("problems").toString())
                .contains("routes/extra.yaml: line " + lineOf(routes, "routeTemplateRef:") + ": template hl7-mllp-inbound has no parameter 'mappping'");
    }

    @Test
    void reloadNeedsConfigWriteAndIsAuditedWithEachFilesHash() throws Exception {
        HttpResponse<String> anonymous = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPort + "/api/config/reload"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(anonymous.statusCode()).isEqualTo(401);
        HttpResponse<String> readOnly = reload(Tokens.sample(httpPort, Tokens.ADMIN, "messages:read"));
        assertThat(readOnly.statusCode()).isEqualTo(403);
        assertThat(readOnly.body()).contains("config:write");
        int before = count("select count(*) from audit_event where action = 'CONFIG_RELOAD'");

        Files.writeString(MAPPINGS.resolve("mercy-or.yaml"), MERCY_PROFILE + "\n# reviewed\n");
        HttpResponse<String> response = reload(adminToken());

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        assertThat(count("select count(*) from audit_event where action = 'CONFIG_RELOAD'")).isEqualTo(before + 1);
        Map<String, Object> event = jdbc.queryForMap("select actor, target, outcome from audit_event"
                + " where action = 'CONFIG_RELOAD' order by id desc fetch first 1 rows only");
        assertThat(event.get("actor")).isEqualTo("client:" + Tokens.ADMIN);
        assertThat(event.get("outcome")).isEqualTo("APPLIED");
        String reloadId = event.get("target").toString().replaceFirst("^reload ", "");
        Map<String, String> files = new java.util.TreeMap<>();
        jdbc.query("select file, sha256 from audit_config_file where reload_id = ?",
                (org.springframework.jdbc.core.RowCallbackHandler) rs -> files.put(rs.getString(1), rs.getString(2)), reloadId);
        assertThat(files).containsEntry("mappings/mercy-or.yaml", sha256(MAPPINGS.resolve("mercy-or.yaml")))
                .containsEntry("routes/mercy-or.yaml", sha256(ROUTES.resolve("mercy-or.yaml")))
                .containsEntry("mappings/item-master.csv", sha256(MAPPINGS.resolve("item-master.csv")))
                .containsKey("routes/destinations.yaml");
        // the file rows are outside the hash chain; the chained row carries their digest
        assertThat(jdbc.queryForObject("select detail from audit_event where action = 'CONFIG_RELOAD' and target = ?",
                String.class, "reload " + reloadId)).startsWith("files sha256:" + org.supplyhub.journal.AuditLog.configFilesDigest(files));
        // reloading the same files again changes nothing, and says so
        HttpResponse<String> again = reload(adminToken());
        assertThat(JSON.readTree(again.body()).path("outcome").asText()).isEqualTo("UNCHANGED");
    }

    @Test
    void theRunningSetIsShownWithEachFilesHash() throws Exception {
        HttpResponse<String> denied = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/config"))
                .header("Authorization", "Bearer " + Tokens.sample(httpPort, Tokens.ADMIN, "metrics:read")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(denied.statusCode()).isEqualTo(403);

        JsonNode config = config();

        assertThat(config.path("files").path("routes/mercy-or.yaml").asText()).isEqualTo(sha256(ROUTES.resolve("mercy-or.yaml")));
        assertThat(config.path("files").path("mappings/mercy-or.yaml").asText()).isEqualTo(sha256(MAPPINGS.resolve("mercy-or.yaml")));
        assertThat(config.path("loadedAt").asText()).isNotEmpty();
        JsonNode mercy = null;
        for (JsonNode i : config.path("interfaces")) {
            if (i.path("id").asText().equals("mercy-or")) {
                mercy = i;
            }
        }
        assertThat(mercy).isNotNull();
        assertThat(mercy.path("port").asInt()).isEqualTo(INTERFACES.ports.get("mercy-or"));
        assertThat(mercy.path("template").asText()).isEqualTo("hl7-mllp-inbound");
        assertThat(mercy.path("mapping").asText()).isEqualTo("mercy-or.yaml");
        assertThat(mercy.path("destinations").toString()).contains("mercy-billing");
        assertThat(config.path("destinations").toString()).contains("fhir-server");
    }

    // --- helpers

    static void check(String id, String ack, List<String> problems) {
        if (ack == null) {
            problems.add(id + ": no ACK (connection closed)");
        } else if (!List.of(ack.split("\r")).stream().anyMatch(
                segment -> segment.equals("MSA|AA|" + id) || segment.startsWith("MSA|AA|" + id + "|"))) {
            problems.add(id + ": " + ack.replace('\r', '\n'));
        }
    }

    static String ackCode(String ack) {
        for (String segment : ack.split("\r")) {
            if (segment.startsWith("MSA|")) {
                return segment.split("\\|")[1];
            }
        }
        return "none";
    }

    /** A second MLLP interface on the Mercy profile; {@code mappingKey} lets a test misspell the parameter. */
    static String extraInterface(int port, String mappingKey) {
        return """
                # an interface a reload adds
                - templatedRoute:
                    routeTemplateRef: hl7-mllp-inbound
                    routeId: extra-or
                    parameters:
                      - name: interfaceId
                        value: extra-or
                      - name: port
                        value: "%d"
                      - name: %s
                        value: mercy-or.yaml
                      - name: destinations
                        value: mercy-billing
                """.formatted(port, mappingKey);
    }

    HttpResponse<String> reload(String token) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/config/reload"))
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> postHttp(String iface, String token) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/hl7/" + iface))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/hl7-v2")
                .POST(HttpRequest.BodyPublishers.ofString(Samples.read(Samples.MERCY))).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    JsonNode config() throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/config"))
                .header("Authorization", "Bearer " + Tokens.sample(httpPort, Tokens.ADMIN, "messages:read")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    List<String> configInterfaces() throws Exception {
        List<String> ids = new ArrayList<>();
        config().path("interfaces").forEach(i -> ids.add(i.path("id").asText()));
        return ids;
    }

    String adminToken() {
        return Tokens.sample(httpPort, Tokens.ADMIN, "config:write");
    }

    int count(String sql) {
        Integer n = jdbc.queryForObject(sql, Integer.class);
        return n == null ? 0 : n;
    }

    static int lineOf(String text, String needle) {
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].contains(needle)) {
                return i + 1;
            }
        }
        throw new AssertionError(needle + " not found");
    }

    static String sha256(Path file) {
        try {
            return ConfigFiles.sha256(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String readString(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The shipped mappings (profiles, crosswalks, tables; not the mapping tests) in a directory of this test's own. */
    static Path copyOfMappings() {
        try {
            Path shipped = TestInterfaces.projectRoot().resolve("mappings");
            Path copy = Files.createTempDirectory("hub-mappings");
            try (Stream<Path> files = Files.walk(shipped)) {
                for (Path file : files.filter(Files::isRegularFile).filter(f -> ConfigFiles.isConfiguration(shipped, f)).toList()) {
                    Path target = copy.resolve(shipped.relativize(file).toString());
                    Files.createDirectories(target.getParent());
                    Files.copy(file, target);
                }
            }
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
