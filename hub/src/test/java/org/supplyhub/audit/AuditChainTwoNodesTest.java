package org.supplyhub.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.supplyhub.SupplyHubApplication;
import org.supplyhub.support.Await;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two hub nodes (two application contexts) on one PostgreSQL schema ingest over MLLP and serve audited
 * reads at the same time, while a scanner hits one of them without a token: every audit row of both
 * lands in one chain that verifies (over {@code GET /api/audit/verify}, with checkpoints signed by both
 * nodes), and the scanner's 1,000 refusals are a handful of rows whose counts add up to 1,000.
 */
class AuditChainTwoNodesTest {

    static final int MESSAGES_PER_SENDER = 20;
    static final int DENIALS = 1000;
    static final String AUDITOR_SECRET = "auditor-secret";
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void twoNodesWritingConcurrentlyKeepOneValidChain() throws Exception {
        Map<String, String> db = TestDatabases.postgres();
        Path key = dir.resolve("secrets/audit-signing-key.pem");
        SigningKeys.generateIfMissing(key); // the key all nodes share, as a mounted secret
        String auditorHash = "{bcrypt}" + new BCryptPasswordEncoder().encode(AUDITOR_SECRET);
        TestInterfaces a = TestInterfaces.copyOfShipped();
        TestInterfaces b = TestInterfaces.copyOfShipped();
        ConfigurableApplicationContext nodeA = start(db, a, "node-a", key, auditorHash);
        try (ConfigurableApplicationContext nodeB = start(db, b, "node-b", key, auditorHash)) {
            JdbcTemplate jdbc = nodeB.getBean(JdbcTemplate.class);
            int portA = port(nodeA);
            int portB = port(nodeB);
            ExecutorService pool = Executors.newFixedThreadPool(7);
            List<Future<Integer>> work = new ArrayList<>();
            for (String node : List.of("A", "B")) {
                TestInterfaces iface = node.equals("A") ? a : b;
                int httpPort = node.equals("A") ? portA : portB;
                for (int s = 0; s < 2; s++) {
                    String sender = node + s;
                    work.add(pool.submit(() -> send(iface.ports.get("mercy-or"), sender)));
                }
                work.add(pool.submit(() -> read(httpPort)));
            }
            work.add(pool.submit(() -> scan(portA)));
            for (Future<Integer> f : work) {
                assertThat(f.get()).isPositive();
            }
            pool.shutdown();

            Await.until(() -> unsealed(jdbc) == 0, 30);
            long rows = jdbc.queryForObject("select count(*) from audit_event", Long.class);
            assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'INGEST'", Integer.class))
                    .isEqualTo(4 * MESSAGES_PER_SENDER);
            // one chain: places 1..n, each taken once
            assertThat(jdbc.queryForObject("select max(chain_seq) - min(chain_seq) + 1 from audit_event", Long.class))
                    .isEqualTo(rows);
            // the scanner's refusals so far: a few rows (the rest of the minute is still being counted)
            assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'ACCESS_DENIED'"
                    + " and actor = 'anonymous@127.0.0.1'", Integer.class)).isBetween(1, 12);

            JsonNode report = verify(portB);
            assertThat(report.path("valid").asBoolean()).as(report.toString()).isTrue();
            assertThat(report.path("rowsVerified").asLong()).isEqualTo(rows);

            // a token without audit:read gets no verification
            HttpResponse<String> denied = get(portB, "/api/audit/verify",
                    Tokens.sample(portB, Tokens.ADMIN, "messages:read"));
            assertThat(denied.statusCode()).isEqualTo(403);

            // node A stops: its last refusal counts are written, node B seals them, and both nodes' signed
            // checkpoints (in the table and in the export) check out
            nodeA.close();
            Await.until(() -> unsealed(jdbc) == 0, 30);
            List<Map<String, Object>> scanner = jdbc.queryForList("select event_count from audit_event"
                    + " where action = 'ACCESS_DENIED' and actor = 'anonymous@127.0.0.1'");
            assertThat(scanner.size()).isBetween(2, 14);
            assertThat(scanner.stream().mapToInt(r -> ((Number) r.get("event_count")).intValue()).sum())
                    .isEqualTo(DENIALS);
            HttpResponse<String> made = post(portB, "/api/audit/checkpoint", auditorToken(portB));
            assertThat(made.statusCode()).as(made.body()).isEqualTo(200);
            assertThat(jdbc.queryForList("select distinct node from audit_checkpoint", String.class))
                    .contains("node-a", "node-b");
            report = verify(portB);
            assertThat(report.path("valid").asBoolean()).as(report.toString()).isTrue();
            JsonNode checkpoints = report.path("checkpoints");
            assertThat(checkpoints.path("signaturesValid").asInt())
                    .isEqualTo(checkpoints.path("inDatabase").asInt() + checkpoints.path("exported").asInt());
            assertThat(checkpoints.path("exported").asInt()).isPositive();
            assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'AUDIT_VERIFY'"
                    + " and actor = 'client:auditor' and outcome = 'VALID'", Integer.class)).isGreaterThanOrEqualTo(1);
            try (var files = Files.list(dir.resolve("export"))) {
                assertThat(files.toList()).hasSize(1);
            }
        } finally {
            nodeA.close();
        }
    }

    private int send(int mllpPort, String sender) throws Exception {
        String sample = Samples.read(Samples.MERCY);
        try (Mllp mllp = new Mllp(mllpPort)) {
            for (int i = 0; i < MESSAGES_PER_SENDER; i++) {
                // unique control and transaction ids, as the intake benchmark sends them
                String run = sender + i + "X" + Long.toString(System.nanoTime(), 36);
                String er7 = Samples.withControlId(sample, "AUD" + run).replace("TX-88120-", "TX-" + run + "-")
                        .replace("SN00042519", "SN" + run); // a knee implanted twice would be a safety flag
                assertThat(mllp.send(er7, StandardCharsets.UTF_8)).contains("MSA|AA");
            }
        }
        return MESSAGES_PER_SENDER;
    }

    private int read(int httpPort) throws Exception {
        String token = Tokens.sample(httpPort, Tokens.ADMIN, "messages:read");
        for (int i = 0; i < 30; i++) {
            assertThat(get(httpPort, "/api/messages?limit=5", token).statusCode()).isEqualTo(200);
        }
        return 30;
    }

    private int scan(int httpPort) throws Exception {
        for (int i = 0; i < DENIALS; i++) {
            assertThat(get(httpPort, "/api/messages/" + i, null).statusCode()).isEqualTo(401);
        }
        return DENIALS;
    }

    private JsonNode verify(int httpPort) throws Exception {
        HttpResponse<String> r = get(httpPort, "/api/audit/verify", auditorToken(httpPort));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static String auditorToken(int httpPort) {
        return Tokens.fetch("http://127.0.0.1:" + httpPort, "auditor", AUDITOR_SECRET, "audit:read");
    }

    private static long unsealed(JdbcTemplate jdbc) {
        return jdbc.queryForObject("select count(*) from audit_event where chain_seq is null", Long.class);
    }

    private static HttpResponse<String> get(int port, String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(int port, String path, String token) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static int port(ConfigurableApplicationContext context) {
        return Integer.parseInt(context.getEnvironment().getProperty("local.server.port"));
    }

    private ConfigurableApplicationContext start(Map<String, String> db, TestInterfaces interfaces, String node,
                                                 Path key, String auditorHash) {
        Map<String, String> props = new HashMap<>(db);
        props.putAll(interfaces.properties());
        props.put("server.port", "0");
        props.put("spring.jmx.enabled", "false");
        props.put("camel.main.name", node);
        props.put("hub.delivery.enabled", "false");
        props.put("hub.audit.signing-key", "file:" + key);
        props.put("hub.audit.checkpoint-export", "file:" + dir.resolve("export"));
        props.put("hub.audit.node", node);
        props.put("hub.audit.seal-interval", "200ms");
        props.put("hub.audit.checkpoint-interval", "1s");
        props.put("hub.security.clients.auditor.secret", auditorHash);
        props.put("hub.security.clients.auditor.scopes", "audit:read");
        return new SpringApplicationBuilder(SupplyHubApplication.class)
                .run(props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
    }
}
