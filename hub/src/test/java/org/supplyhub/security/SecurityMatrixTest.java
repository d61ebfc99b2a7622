package org.supplyhub.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
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
@ExtendWith(OutputCaptureExtension.class)
class SecurityMatrixTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final String ALL_SCOPES = "ingest:mercy-or,ingest:lakeside-cath,messages:read,messages:replay,metrics:read,config:write,audit:read";
    static final String SHORT_LIVED = "short-lived";
    static final String OTHER_API = "other-api";
    static final String ALL = "all-scopes";
    static final List<String> METHODS = List.of("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE");
    static IndependentIssuer intruder;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.delivery.enabled", () -> "false");
        registry.add("hub.security.clock-skew", () -> "0s");
        registry.add("hub.security.body-read-timeout", () -> "3s");
        // the matrix counts one audit row per refusal: no folding of refused requests here
        registry.add("hub.audit.refused-rows-per-minute", () -> "1000000");
        String[][] clients = {
                {Tokens.MERCY, "{bcrypt}$2a$10$/N3S67YDDK5OkKkQi8GN2.4bb4UbBr9HsKqo7bYzf0k9c3Ck7Vzge", "ingest:mercy-or", null, null},
                {Tokens.LAKESIDE, "{bcrypt}$2a$10$lwKf88emfxTey/4Uhx8gvu0tTOfc5h5cuMHkFwWuj36NNTHk.LFly", "ingest:lakeside-cath", null, null},
                {Tokens.ADMIN, "{bcrypt}$2a$10$yq5eIJvZnCRaAsSicQ3bKuQjzvWpc7f.mN/SiURhheBB5q8OcwMhq", "messages:read,messages:replay,metrics:read,config:write", null, null},
                // every scope, but its tokens live one second
                {SHORT_LIVED, "{bcrypt}$2a$10$ApiSH4GFesatS83Gv7KMauUogMdaoKWGbAj.J8wAvPflRAgfrSAym", ALL_SCOPES, "1s", null},
                // every scope, but its tokens are meant for another API
                {OTHER_API, "{bcrypt}$2a$10$rBIJWe1SwNCPP7nmQ3stA.PnlsBACfsbvcuqT31mFLrweO2lFFYMi", ALL_SCOPES, null, "inventory-api"},
                // every scope, for the method × path sweep
                {ALL, "{bcrypt}$2a$10$RQyFleGOXnd526WaHDSk4.mBX0zJPSZ6/zyB2fRXmSRDckdUIjcr2", ALL_SCOPES, null, null},
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

    @Autowired
    @org.springframework.beans.factory.annotation.Qualifier("requestMappingHandlerMapping")
    org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerMapping handlerMapping;

    @Autowired
    org.springframework.boot.actuate.endpoint.web.PathMappedEndpoints actuatorPaths;

    @Autowired
    EmbeddedIssuerConfiguration.SigningKey signingKey;

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
        // an open flag that holds no charge: its release answers 200 without queueing anything
        long flagId = openFlag(messageId);
        long auditBefore = lastAuditId();
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
                new Endpoint("GET", "/api/devices?di=00889024123458&lot=LOT7781A", "messages:read", "ingest:mercy-or",
                        Tokens.ADMIN, null, null),
                new Endpoint("GET", "/api/flags", "messages:read", "ingest:mercy-or", Tokens.ADMIN, null, null),
                new Endpoint("GET", "/api/flags/" + flagId, "messages:read", "messages:replay", Tokens.ADMIN, null, null),
                new Endpoint("POST", "/api/flags/" + flagId + "/release", "messages:replay", "messages:read", Tokens.ADMIN,
                        c -> HttpRequest.BodyPublishers.noBody(), null),
                new Endpoint("GET", "/api/config", "messages:read", "config:write", Tokens.ADMIN, null, null),
                new Endpoint("POST", "/api/config/reload", "config:write", "messages:read", Tokens.ADMIN,
                        c -> HttpRequest.BodyPublishers.noBody(), null),
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
        Integer denied = jdbc.queryForObject("select count(*) from audit_event where action = 'ACCESS_DENIED' and id > ?",
                Integer.class, auditBefore);
        assertThat(denied).isEqualTo(endpoints.size() * 7);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'ACCESS_DENIED'"
                + " and outcome = '403' and actor = 'client:" + Tokens.LAKESIDE + "' and target = 'POST /hl7/mercy-or'"
                + " and id > ?", Integer.class, auditBefore)).isEqualTo(1);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'INGEST' and actor = 'client:"
                + Tokens.MERCY + "' and outcome = 'AA'", Integer.class)).isGreaterThanOrEqualTo(2);
    }

    /**
     * Every path the hub maps (controllers and actuator endpoints) × every method: the method and
     * path is either in {@link AccessRules} — then a token without its scope gets 403 and one with
     * it gets through — or refused for every token (401 without one, 403 with every scope). A mapped
     * endpoint (or HEAD on a GET one) without a rule fails here.
     */
    @Test
    void everyMappedPathAndEveryMethodIsScopedOrRefused() throws Exception {
        long messageId = postedMessageId();
        String all = Tokens.fetch(base(), ALL, "all-scopes-secret", ALL_SCOPES.replace(',', ' '));
        String none = Tokens.fetch(base(), Tokens.ADMIN, "admin-demo-secret", null);
        Map<String, java.util.Set<String>> mapped = new java.util.TreeMap<>();
        handlerMapping.getHandlerMethods().keySet().forEach(info -> {
            for (String pattern : info.getPatternValues()) {
                java.util.Set<String> methods = mapped.computeIfAbsent(pattern, p -> new java.util.TreeSet<>());
                info.getMethodsCondition().getMethods().forEach(m -> methods.add(m.name()));
                if (methods.contains("GET")) {
                    methods.add("HEAD"); // Spring MVC answers HEAD with the GET handler
                }
            }
        });
        actuatorPaths.getAllPaths().forEach(p -> mapped.computeIfAbsent(p, x -> new java.util.TreeSet<>(List.of("GET", "HEAD"))));
        assertThat(mapped).containsKeys("/hl7/{interfaceId}", "/api/messages/{id}/raw", "/actuator/prometheus");

        org.springframework.web.util.pattern.PathPatternParser parser = new org.springframework.web.util.pattern.PathPatternParser();
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (Map.Entry<String, java.util.Set<String>> entry : mapped.entrySet()) {
            String path = entry.getKey().replace("{interfaceId}", "mercy-or").replace("{id}", String.valueOf(messageId))
                    .replaceAll("\\{[^}]+}", "x");
            for (String method : METHODS) {
                AccessRules.Rule rule = AccessRules.RULES.stream()
                        .filter(r -> r.methods().stream().anyMatch(m -> m.name().equals(method)))
                        .filter(r -> parser.parse(r.pattern()).matches(org.springframework.http.server.PathContainer.parsePath(path)))
                        .findFirst().orElse(null);
                String name = method + " " + path;
                if (rule == null && entry.getValue().contains(method) && !entry.getKey().equals("/error")) {
                    failures.add(name + ": mapped, but no rule in AccessRules (so refused to everyone)");
                }
                int anonymous = sweep(method, path, null, checked++).statusCode();
                int scoped = sweep(method, path, all, checked++).statusCode();
                if (rule == null) {
                    expect(failures, name + " no token", anonymous, 401);
                    expect(failures, name + " every scope", scoped, 403);
                } else if (rule.open()) {
                    if (anonymous == 401 || anonymous == 403) {
                        failures.add(name + " is open, but no token got " + anonymous);
                    }
                } else {
                    expect(failures, name + " no token", anonymous, 401);
                    expect(failures, name + " no scope", sweep(method, path, none, checked++).statusCode(), 403);
                    if (scoped == 401 || scoped == 403) {
                        failures.add(name + " with every scope got " + scoped);
                    }
                }
            }
        }
        System.out.println("Method × path sweep: " + mapped.size() + " paths × " + METHODS.size() + " methods, "
                + checked + " requests, " + failures.size() + " failures");
        assertThat(failures).isEmpty();
    }

    @Test
    void headNeedsTheScopeGetNeeds() throws Exception {
        long messageId = postedMessageId();
        String none = Tokens.fetch(base(), Tokens.ADMIN, "admin-demo-secret", null);
        long before = lastAuditId();
        HttpResponse<String> head = sweep("HEAD", "/api/messages/" + messageId + "/raw", none, 0);
        assertThat(head.statusCode()).isEqualTo(403);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'MESSAGE_READ' and id > ?",
                Integer.class, before)).isZero();
        assertThat(sweep("HEAD", "/api/messages/" + messageId + "/raw",
                Tokens.sample(port, Tokens.ADMIN, "messages:read"), 0).statusCode()).isEqualTo(200);
    }

    @Test
    void aForbiddenAnswerDoesNotEchoThePath() throws Exception {
        String token = Tokens.sample(port, Tokens.LAKESIDE, "ingest:lakeside-cath");
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + "/hl7/%3Cscript%3Ealert(1)%3C%20script%3E"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/hl7-v2")
                .POST(HttpRequest.BodyPublishers.ofString("MSH|")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.body()).doesNotContain("%3C").doesNotContain("<script").doesNotContain("script");
    }

    /** A sender trickling its body a byte a second is cut off at the body deadline (3 s here), not served forever. */
    @Test
    void aTricklingSenderIsCutOffAtTheBodyDeadline() throws Exception {
        String token = Tokens.sample(port, Tokens.MERCY, "ingest:mercy-or");
        assertCutOff("POST /hl7/mercy-or HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
                + "\r\nContent-Type: application/hl7-v2\r\nContent-Length: 1000\r\n\r\n");
    }

    @Test
    void aTricklingFormBodyAtTheTokenEndpointIsCutOffToo() throws Exception {
        // Tomcat reads form bodies itself for getParameter(), so the deadline must cover that read as well
        assertCutOff("POST /oauth2/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n");
    }

    /** Sends {@code head}, then its body a byte a second: the answer must be a 408 within the deadline (3 s here). */
    private void assertCutOff(String head) throws Exception {
        long start = System.nanoTime();
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(20_000);
            java.io.OutputStream out = socket.getOutputStream();
            out.write(head.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            java.io.InputStream in = socket.getInputStream();
            String answer = "";
            for (int i = 0; i < 15 && answer.isEmpty(); i++) {
                try {
                    out.write('M');
                    out.flush();
                } catch (java.io.IOException closed) {
                    break;
                }
                Thread.sleep(1000);
                if (in.available() > 0) {
                    answer = new String(in.readNBytes(in.available()), java.nio.charset.StandardCharsets.US_ASCII);
                }
            }
            if (answer.isEmpty()) {
                answer = new String(in.readNBytes(12), java.nio.charset.StandardCharsets.US_ASCII);
            }
            long seconds = java.util.concurrent.TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
            System.out.println("Trickling sender answered after " + seconds + " s: " + answer.lines().findFirst().orElse(""));
            assertThat(answer).startsWith("HTTP/1.1 408");
            assertThat(seconds).isLessThan(8);
        }
    }

    @Test
    void theAuthorizationEndpointIsNotServed(CapturedOutput output) throws Exception {
        for (String path : List.of("/oauth2/authorize", "/oauth2/authorize?response_type=code&client_id=hub-admin",
                "/oauth2/device_authorization")) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base() + path)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(path).isEqualTo(401);
            assertThat(r.headers().firstValue("Content-Type").orElse("")).contains("application/problem+json");
        }
        assertThat(output.getAll()).doesNotContain("\tat org.springframework.security.oauth2.server.authorization");
    }

    /** The 401's reason and its audit row come from which check failed, not from words in a message. */
    @Test
    void refusedTokensAreNamedByTheCheckThatFailed() throws Exception {
        Instant now = Instant.now();
        Map<String, String> reasons = new LinkedHashMap<>();
        // exp before iat: Spring cannot even build the token; it says "expiresAt must be after issuedAt"
        reasons.put(signed(c -> c.issueTime(Date.from(now)).expirationTime(Date.from(now.minusSeconds(30)))),
                "could not be read");
        reasons.put(signed(c -> c.subject(null)), "names no subject");
        reasons.put(signed(c -> c.issuer("http://elsewhere.example")), "issuer this hub does not trust");
        reasons.put(signed(c -> c.issueTime(Date.from(now.minusSeconds(90))).expirationTime(Date.from(now.minusSeconds(30)))),
                "has expired");
        reasons.put(signed(c -> c.notBeforeTime(Date.from(now.plusSeconds(300)))), "not valid yet");
        for (Map.Entry<String, String> e : reasons.entrySet()) {
            long before = lastAuditId();
            HttpResponse<String> r = sweep("GET", "/api/messages", e.getKey(), 0);
            assertThat(r.statusCode()).isEqualTo(401);
            assertThat(new ObjectMapper().readTree(r.body()).path("detail").asText()).as(e.getValue()).contains(e.getValue());
            assertThat(jdbc.queryForObject("select detail from audit_event where action = 'ACCESS_DENIED' and id > ?",
                    String.class, before)).contains(e.getValue());
        }
    }

    /** A service account's sub is an opaque id: the audit trail names the client (azp) it was issued to. */
    @Test
    void theCallerIsTheClientTheTokenWasIssuedTo() throws Exception {
        long messageId = postedMessageId();
        String token = signed(c -> c.subject(java.util.UUID.randomUUID().toString()).claim("azp", "keycloak-admin-client"));
        long before = lastAuditId();
        assertThat(sweep("GET", "/api/messages/" + messageId, token, 0).statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForObject("select actor from audit_event where action = 'MESSAGE_READ' and id > ?",
                String.class, before)).isEqualTo("client:keycloak-admin-client");
    }

    /** A token signed with the hub's own key, claims as a valid one then changed by {@code edit}. */
    private String signed(java.util.function.UnaryOperator<com.nimbusds.jwt.JWTClaimsSet.Builder> edit) throws Exception {
        Instant now = Instant.now();
        com.nimbusds.jwt.JWTClaimsSet.Builder claims = new com.nimbusds.jwt.JWTClaimsSet.Builder()
                .issuer(signingKey.issuer()).subject(Tokens.ADMIN).audience("supply-hub")
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300)))
                .claim("scope", "messages:read");
        com.nimbusds.jwt.SignedJWT jwt = new com.nimbusds.jwt.SignedJWT(
                new com.nimbusds.jose.JWSHeader.Builder(com.nimbusds.jose.JWSAlgorithm.RS256).keyID(signingKey.keyId()).build(),
                edit.apply(claims).build());
        jwt.sign(new com.nimbusds.jose.crypto.RSASSASigner(signingKey.keyPair().getPrivate()));
        return jwt.serialize();
    }

    private static void expect(List<String> failures, String what, int status, int expected) {
        if (status != expected) {
            failures.add(what + ": " + status + " (expected " + expected + ")");
        }
    }

    private HttpResponse<String> sweep(String method, String path, String token, int n) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base() + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        HttpRequest.BodyPublisher body = HttpRequest.BodyPublishers.noBody();
        if (path.startsWith("/hl7/") && !method.equals("GET") && !method.equals("HEAD")) {
            b.header("Content-Type", "application/hl7-v2");
            body = HttpRequest.BodyPublishers.ofString(Samples.withControlId(Samples.read(Samples.MERCY), "SW-" + n + "-" + System.nanoTime()));
        }
        return http.send(b.method(method, body).build(), HttpResponse.BodyHandlers.ofString());
    }

    private long lastAuditId() {
        Long id = jdbc.queryForObject("select max(id) from audit_event", Long.class);
        return id == null ? 0 : id;
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

    long openFlag(long messageId) {
        return jdbc.queryForObject("insert into implant_flag (message_id, interface_id, line_no, device_no, check_name,"
                + " reason, severity, detail, hold_charge, status, created_at) values (?, 'mercy-or', 3, 0, 'expired',"
                + " 'expired', 'high', 'security matrix', false, 'OPEN', current_timestamp) returning id", Long.class, messageId);
    }

}
