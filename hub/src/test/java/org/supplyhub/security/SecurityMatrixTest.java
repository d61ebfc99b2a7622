package org.supplyhub.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.IndependentIssuer;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every protected endpoint × every kind of token → the status the contract promises. Tokens come
 * from the hub's real embedded issuer over HTTP; the wrong-issuer tokens from a second, independent
 * issuer started here. Prints the matrix.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureObservability // Prometheus is off in tests unless asked for
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class SecurityMatrixTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final String ALL_SCOPES = "ingest:mercy-or,ingest:lakeside-cath,messages:read,messages:replay,metrics:read";
    static final String SHORT_LIVED = "short-lived";
    static final String OTHER_API = "other-api";
    static IndependentIssuer intruder;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.delivery.enabled", () -> "false");
        registry.add("hub.security.clock-skew", () -> "0s");
        String[][] clients = {
                {Tokens.MERCY, "{bcrypt}$2a$10$/N3S67YDDK5OkKkQi8GN2.4bb4UbBr9HsKqo7bYzf0k9c3Ck7Vzge", "ingest:mercy-or", null, null},
                {Tokens.LAKESIDE, "{bcrypt}$2a$10$lwKf88emfxTey/4Uhx8gvu0tTOfc5h5cuMHkFwWuj36NNTHk.LFly", "ingest:lakeside-cath", null, null},
                {Tokens.ADMIN, "{bcrypt}$2a$10$yq5eIJvZnCRaAsSicQ3bKuQjzvWpc7f.mN/SiURhheBB5q8OcwMhq", "messages:read,messages:replay,metrics:read", null, null},
                // every scope, but its tokens live one second
                {SHORT_LIVED, "{bcrypt}$2a$10$ApiSH4GFesatS83Gv7KMauUogMdaoKWGbAj.J8wAvPflRAgfrSAym", ALL_SCOPES, "1s", null},
                // every scope, but its tokens are meant for another API
                {OTHER_API, "{bcrypt}$2a$10$rBIJWe1SwNCPP7nmQ3stA.PnlsBACfsbvcuqT31mFLrweO2lFFYMi", ALL_SCOPES, null, "inventory-api"},
        };
        for (int i = 0; i < clients.length; i++) {
            String[] c = clients[i];
            String p = "hub.security.clients[" + i + "].";
            registry.add(p + "id", () -> c[0]);
            registry.add(p + "secret", () -> c[1]);
            registry.add(p + "scopes", () -> c[2]);
            if (c[3] != null) {
                registry.add(p + "token-ttl", () -> c[3]);
            }
            if (c[4] != null) {
                registry.add(p + "audience", () -> c[4]);
            }
        }
    }

    @LocalServerPort
    int port;

    @Autowired
    JdbcTemplate jdbc;

    final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void startIntruder() {
        intruder = IndependentIssuer.start("http://intruder.example", ALL_SCOPES.split(","));
    }

    @AfterAll
    static void stopIntruder() {
        intruder.close();
    }

    /** One protected endpoint, the scope that opens it, and a scope that must not. */
    record Endpoint(String method, String path, String scope, String wrongScope, String client,
                    Function<String, HttpRequest.BodyPublisher> body, String contentType) {
        String name() {
            return method + " " + path;
        }
    }

    enum Case { NO_TOKEN, MALFORMED, EXPIRED, WRONG_ISSUER, WRONG_AUDIENCE, NO_SCOPE, OTHER_SCOPE, VALID }

    @Test
    void everyEndpointAnswersEveryKindOfTokenAsTheContractSays() throws Exception {
        long messageId = postedMessageId();
        String mercy = Samples.read(Samples.MERCY);
        String lakeside = Samples.read(Samples.LAKESIDE);
        List<Endpoint> endpoints = List.of(
                new Endpoint("POST", "/hl7/mercy-or", "ingest:mercy-or", "ingest:lakeside-cath", Tokens.MERCY,
                        c -> HttpRequest.BodyPublishers.ofString(Samples.withControlId(mercy, "MX-" + c)), "application/hl7-v2"),
                new Endpoint("POST", "/hl7/lakeside-cath", "ingest:lakeside-cath", "ingest:mercy-or", Tokens.LAKESIDE,
                        c -> HttpRequest.BodyPublishers.ofString(Samples.withControlId(lakeside, "LX-" + c)), "application/hl7-v2"),
                new Endpoint("GET", "/api/messages", "messages:read", "ingest:mercy-or", Tokens.ADMIN, null, null),
                new Endpoint("GET", "/api/messages/" + messageId, "messages:read", "ingest:mercy-or", Tokens.ADMIN, null, null),
                new Endpoint("GET", "/api/messages/" + messageId + "/raw", "messages:read", "messages:replay", Tokens.ADMIN, null, null),
                new Endpoint("GET", "/api/messages/" + messageId + "/outputs", "messages:read", "ingest:mercy-or", Tokens.ADMIN, null, null),
                new Endpoint("GET", "/api/messages/" + messageId + "/attempts", "messages:read", "metrics:read", Tokens.ADMIN, null, null),
                new Endpoint("GET", "/api/audit", "messages:read", "messages:replay", Tokens.ADMIN, null, null),
                new Endpoint("POST", "/api/messages/" + messageId + "/replay", "messages:replay", "messages:read", Tokens.ADMIN,
                        c -> HttpRequest.BodyPublishers.noBody(), null),
                new Endpoint("GET", "/actuator/prometheus", "metrics:read", "messages:read", Tokens.ADMIN, null, null),
                new Endpoint("GET", "/actuator/metrics", "metrics:read", "ingest:mercy-or", Tokens.ADMIN, null, null));

        // expired tokens: minted first, used after their one second (and a zero clock skew)
        Map<String, String> expired = new LinkedHashMap<>();
        for (Endpoint e : endpoints) {
            expired.put(e.scope(), Tokens.fetch(base(), SHORT_LIVED, "short-lived-secret", e.scope()));
        }
        Thread.sleep(2100);

        Map<Case, Integer> expectedStatus = Map.of(Case.NO_TOKEN, 401, Case.MALFORMED, 401, Case.EXPIRED, 401,
                Case.WRONG_ISSUER, 401, Case.WRONG_AUDIENCE, 401, Case.NO_SCOPE, 403, Case.OTHER_SCOPE, 403, Case.VALID, 200);
        List<String> failures = new ArrayList<>();
        StringBuilder table = new StringBuilder(String.format("%-40s", "endpoint"));
        for (Case c : Case.values()) {
            table.append(String.format("%15s", c.name().toLowerCase()));
        }
        table.append('\n');
        int n = 0;
        for (Endpoint e : endpoints) {
            table.append(String.format("%-40s", e.name()));
            for (Case c : Case.values()) {
                String token = switch (c) {
                    case NO_TOKEN -> null;
                    case MALFORMED -> "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2lnbmF0dXJl";
                    case EXPIRED -> expired.get(e.scope());
                    case WRONG_ISSUER -> intruder.token(e.scope());
                    case WRONG_AUDIENCE -> Tokens.fetch(base(), OTHER_API, "other-api-secret", e.scope());
                    case NO_SCOPE -> Tokens.fetch(base(), e.client(), secret(e.client()), null);
                    case OTHER_SCOPE -> Tokens.sample(port, clientFor(e.wrongScope()), e.wrongScope());
                    case VALID -> Tokens.sample(port, e.client(), e.scope());
                };
                HttpResponse<String> response = send(e, token, n++);
                table.append(String.format("%15d", response.statusCode()));
                int expected = expectedStatus.get(c);
                if (response.statusCode() != expected) {
                    failures.add(e.name() + " × " + c + ": " + response.statusCode() + " (expected " + expected + ") "
                            + response.body());
                } else if (expected >= 400) {
                    JsonNode problem = new ObjectMapper().readTree(response.body());
                    if (!response.headers().firstValue("Content-Type").orElse("").contains("application/problem+json")
                            || problem.path("status").asInt() != expected || problem.path("detail").asText().isEmpty()
                            || response.headers().firstValue("WWW-Authenticate").isEmpty()) {
                        failures.add(e.name() + " × " + c + ": not a problem JSON with WWW-Authenticate: " + response.body());
                    }
                } else if (e.path().startsWith("/hl7/") && !response.body().contains("MSA|AA")) {
                    failures.add(e.name() + " × " + c + ": no AA in " + response.body());
                }
            }
            table.append('\n');
        }
        System.out.println("Security matrix (HTTP status per endpoint × token):\n" + table);
        assertThat(failures).isEmpty();

        // refusals are audited with the caller and the target, never the message
        Integer denied = jdbc.queryForObject("select count(*) from audit_event where action = 'ACCESS_DENIED'", Integer.class);
        assertThat(denied).isEqualTo(endpoints.size() * 7);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'ACCESS_DENIED'"
                + " and outcome = '403' and actor = 'client:" + Tokens.LAKESIDE + "' and target = 'POST /hl7/mercy-or'",
                Integer.class)).isEqualTo(1);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'INGEST' and actor = 'client:"
                + Tokens.MERCY + "' and outcome = 'AA'", Integer.class)).isGreaterThanOrEqualTo(2);
    }

    @Test
    void theTokenEndpointRefusesBadClientsAndUngrantedScopes() {
        assertThat(Tokens.request(base(), Tokens.MERCY, "wrong-secret", "ingest:mercy-or").statusCode()).isEqualTo(401);
        HttpResponse<String> ungranted = Tokens.request(base(), Tokens.MERCY, secret(Tokens.MERCY), "ingest:lakeside-cath");
        assertThat(ungranted.statusCode()).isEqualTo(400);
        assertThat(ungranted.body()).contains("invalid_scope");
    }

    @Test
    void bodyLimitsAndContentTypeStillApplyToAuthorisedCallers() throws Exception {
        String token = Tokens.sample(port, Tokens.MERCY, "ingest:mercy-or");
        HttpResponse<String> big = http.send(HttpRequest.newBuilder(URI.create(base() + "/hl7/mercy-or"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/hl7-v2")
                .POST(HttpRequest.BodyPublishers.ofString("MSH|" + "x".repeat(1024 * 1024 + 1))).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(big.statusCode()).isEqualTo(413);
        HttpResponse<String> json = http.send(HttpRequest.newBuilder(URI.create(base() + "/hl7/mercy-or"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(json.statusCode()).isEqualTo(415);
        assertThat(json.headers().firstValue("Content-Type").orElseThrow()).contains("application/problem+json");
    }

    @Test
    void healthIsOpenAndTheAuditTrailIsReadable() throws Exception {
        assertThat(http.send(HttpRequest.newBuilder(URI.create(base() + "/actuator/health")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        postedMessageId();
        HttpResponse<String> audit = http.send(HttpRequest.newBuilder(URI.create(base() + "/api/audit?action=INGEST"))
                .header("Authorization", "Bearer " + Tokens.sample(port, Tokens.ADMIN, "messages:read")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(audit.statusCode()).isEqualTo(200);
        JsonNode events = new ObjectMapper().readTree(audit.body());
        assertThat(events.size()).isPositive();
        assertThat(events.get(0).path("actor").asText()).isEqualTo("client:" + Tokens.MERCY);
        assertThat(events.get(0).path("target").asText()).startsWith("message ");
        // ids only: nothing of the sample's patient in the audit trail
        assertThat(audit.body()).doesNotContain("VALDEZ").doesNotContain("MRN448812").doesNotContain("ACCT90017733");
    }

    private long postedMessageId() throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "SEC-" + System.nanoTime());
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + "/hl7/mercy-or"))
                .header("Authorization", "Bearer " + Tokens.sample(port, Tokens.MERCY, "ingest:mercy-or"))
                .header("Content-Type", "application/hl7-v2")
                .POST(HttpRequest.BodyPublishers.ofString(er7)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.body()).contains("MSA|AA");
        return jdbc.queryForObject("select id from message where control_id = ?", Long.class, Samples.controlId(er7));
    }

    private HttpResponse<String> send(Endpoint e, String token, int n) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + e.path()));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (e.contentType() != null) {
            b.header("Content-Type", e.contentType());
        }
        b.method(e.method(), e.body() == null ? HttpRequest.BodyPublishers.noBody() : e.body().apply(String.valueOf(n)));
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String base() {
        return "http://127.0.0.1:" + port;
    }

    private static String clientFor(String scope) {
        return scope.equals("ingest:mercy-or") ? Tokens.MERCY : scope.equals("ingest:lakeside-cath") ? Tokens.LAKESIDE : Tokens.ADMIN;
    }

    private static String secret(String client) {
        return switch (client) {
            case Tokens.MERCY -> "mercy-demo-secret";
            case Tokens.LAKESIDE -> "lakeside-demo-secret";
            default -> "admin-demo-secret";
        };
    }
}
