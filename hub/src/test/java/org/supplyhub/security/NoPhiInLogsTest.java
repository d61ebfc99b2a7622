package org.supplyhub.security;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.MockMvc;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.support.Await;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every sample through every path — MLLP and HTTP intake, resends, mapping errors, rejects, an
 * oversize frame, refused HTTP calls, deliveries that succeed, retry and die — with our code,
 * Camel, HAPI and the HTTP client logging at DEBUG; then not one of the samples' names, MRNs, birth
 * dates, addresses, account numbers or implant serials may be in the captured output.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "logging.level.org.supplyhub=DEBUG", "logging.level.org.apache.camel=DEBUG",
        "logging.level.ca.uhn=DEBUG", "logging.level.org.springframework.security=DEBUG",
        "logging.level.org.apache.hc=DEBUG", "logging.level.org.springframework.web=DEBUG",
        "logging.level.org.thymeleaf=DEBUG", "logging.level.org.springframework.test.web.servlet=DEBUG"})
@ExtendWith(OutputCaptureExtension.class)
@DirtiesContext
class NoPhiInLogsTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final int RECEIVER_PORT = TestInterfaces.freePort();
    static final AtomicInteger receiverCalls = new AtomicInteger();
    static HttpServer receiver;

    @LocalServerPort
    int port;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    IntakeService intake;

    @Autowired
    RunningConfig catalog;

    @Autowired
    org.springframework.web.context.WebApplicationContext context;

    @Autowired
    org.supplyhub.admin.PhiQueryMasking queryMasking;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", RECEIVER_PORT), 0);
        receiver.createContext("/stock", exchange -> {
            exchange.getRequestBody().readAllBytes();
            // down, then a refusal that echoes nothing: retried, then dead
            exchange.sendResponseHeaders(receiverCalls.incrementAndGet() <= 2 ? 503 : 400, -1);
            exchange.close();
        });
        receiver.start();
        Files.writeString(INTERFACES.routesDir.resolve("phi.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: mercy-or-copy }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: "refusing-inventory" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: refusing-inventory }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%d/stock" }
                      - { name: initialBackoff, value: 50ms }
                """.formatted(RECEIVER_PORT));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    @AfterAll
    static void stop() {
        receiver.stop(0);
    }

    @Test
    void noSampleIdentifiersReachTheLogs(CapturedOutput output) throws Exception {
        List<String> samples = List.of(Samples.read(Samples.MERCY), Samples.read(Samples.MERCY_CREDIT),
                Samples.read(Samples.LAKESIDE));
        int n = 0;
        for (String sample : samples) {
            String iface = sample.contains("LAKESIDE") ? "lakeside-cath" : "mercy-or";
            int mllpPort = INTERFACES.ports.get(iface);
            String good = Samples.withControlId(sample, "PHI-OK-" + n);
            try (Mllp mllp = new Mllp(mllpPort)) {
                assertThat(mllp.send(good, StandardCharsets.UTF_8)).contains("MSA|AA");
                assertThat(mllp.send(good, StandardCharsets.UTF_8)).contains("MSA|AA"); // a resend
                // mapping error (quantity not a number), wrong message type, no control id
                assertThat(mllp.send(Samples.withField(Samples.withControlId(sample, "PHI-AE-" + n), "FT1", 10, "two"),
                        StandardCharsets.UTF_8)).contains("MSA|AE");
                assertThat(mllp.send(Samples.withField(Samples.withControlId(sample, "PHI-AR-" + n), "MSH", 8, "ADT^A01"),
                        StandardCharsets.UTF_8)).contains("MSA|AR");
                assertThat(mllp.send(Samples.withField(sample, "MSH", 9, ""), StandardCharsets.UTF_8)).contains("MSA|AR");
                // a message that does not start with MSH
                assertThat(mllp.send(sample.substring(sample.indexOf("PID|")), StandardCharsets.UTF_8)).contains("MSA|AR");
            }
            // over HTTP: accepted, without a token, with another interface's token, wrong content type
            assertThat(post(iface, Samples.withControlId(sample, "PHI-HTTP-" + n), token(iface), "application/hl7-v2").body())
                    .contains("MSA|AA");
            assertThat(post(iface, sample, null, "application/hl7-v2").statusCode()).isEqualTo(401);
            assertThat(post(iface, sample, token(iface.equals("mercy-or") ? "lakeside-cath" : "mercy-or"),
                    "application/hl7-v2").statusCode()).isEqualTo(403);
            assertThat(post(iface, sample, token(iface), "text/plain").statusCode()).isEqualTo(415);
            n++;
        }
        // an oversize frame whose head is full of PHI
        try (Mllp mllp = new Mllp(INTERFACES.ports.get("mercy-or"))) {
            String huge = samples.get(0) + "\rNTE|1||" + "VALDEZ ROSA ".repeat(100_000);
            assertThat(mllp.send(huge, StandardCharsets.UTF_8)).contains("MSA|AR");
        }
        // a message that goes to a receiver which fails, then refuses it for good
        assertThat(intake.receive(catalog.get("mercy-or-copy"), samples.get(0).getBytes(StandardCharsets.UTF_8), null,
                "test").ackCode()).isEqualTo("AA");

        // a database failure in the middle of the journal's batch: the driver's exception (whose text can
        // quote the batch's values: raw message, usage with MRN and account) must not be logged
        jdbc.execute("""
                create function phi_kill() returns trigger language plpgsql as $$ begin
                  if new.control_id = 'PHI-DB-0' then raise exception 'journal refused'; end if;
                  return new; end $$""");
        jdbc.execute("create trigger phi_kill before insert on message for each row execute function phi_kill()");
        try (Mllp mllp = new Mllp(INTERFACES.ports.get("mercy-or"))) {
            assertThat(mllp.send(Samples.withControlId(samples.get(0), "PHI-DB-0"), StandardCharsets.UTF_8))
                    .contains("MSA|AE");
        } finally {
            jdbc.execute("drop trigger phi_kill on message");
        }

        // everything accepted is delivered (files) or dead (the refusing receiver)
        Await.until(() -> jdbc.queryForObject("select count(*) from outbox where status = 'PENDING'", Integer.class) == 0, 30);
        assertThat(jdbc.queryForObject("select count(*) from outbox where status = 'DEAD'", Integer.class)).isEqualTo(1);

        String logs = output.getAll();
        // the capture is live: interface and control ids are logged
        assertThat(logs).contains("PHI-AR-0").contains("mercy-or").contains("refusing-inventory");
        List<String> leaks = new ArrayList<>();
        for (String phi : identifiers(samples)) {
            if (logs.contains(phi)) {
                int at = logs.indexOf(phi);
                leaks.add(phi + " in: " + logs.substring(Math.max(0, logs.lastIndexOf('\n', at) + 1),
                        Math.min(logs.length(), at + 80)));
            }
        }
        System.out.println("No-PHI check: " + identifiers(samples).size() + " identifiers, " + logs.length()
                + " characters of log, " + leaks.size() + " leaks");
        assertThat(leaks).isEmpty();
    }

    /**
     * The console at DEBUG (Spring MVC, Thymeleaf, our code): a search by MRN and by account, the
     * message page (raw segments, usage, FHIR resources, deliveries), the dashboard, a replay and a
     * bulk replay by patient — the pages show the PHI to the person, the logs must not. MockMvc runs
     * the hub's {@code PhiQueryMasking} filter but not the security chain (console-auth signs people in).
     */
    @Test
    void consolePagesLogNoPhi(CapturedOutput output) throws Exception {
        // the hub's own filter that keeps typed identifiers out of logged query strings, without the security chain
        MockMvc console = org.springframework.test.web.servlet.setup.MockMvcBuilders.webAppContextSetup(context)
                .addFilters(queryMasking).build();
        String sample = Samples.withControlId(Samples.read(Samples.MERCY), "PHI-CONSOLE-" + System.nanoTime());
        assertThat(intake.receive(catalog.get("mercy-or"), sample.getBytes(StandardCharsets.UTF_8), null, "test")
                .ackCode()).isEqualTo("AA");
        long id = jdbc.queryForObject("select id from message where control_id = ?", Long.class, Samples.controlId(sample));
        // a console session as the console chain makes it: an OIDC person with the role and its scopes
        var authorities = org.springframework.security.core.authority.AuthorityUtils.createAuthorityList(
                "SCOPE_messages:read", "SCOPE_messages:replay", "SCOPE_audit:read", "ROLE_admin");
        var idToken = org.springframework.security.oauth2.core.oidc.OidcIdToken.withTokenValue("id-token")
                .subject("sub-phi-operator").claim("preferred_username", "phi-operator")
                .issuedAt(java.time.Instant.now()).expiresAt(java.time.Instant.now().plusSeconds(600)).build();
        var operator = new org.springframework.security.oauth2.client.authentication.OAuth2AuthenticationToken(
                new org.springframework.security.oauth2.core.oidc.user.DefaultOidcUser(authorities, idToken), authorities, "hub");
        Set<String> phi = identifiers(List.of(sample));
        String mrn = sample.split("PID\\|")[1].split("\\|")[2].split("\\^")[0];
        String account = sample.split("PID\\|")[1].split("\\|")[17].split("\\^")[0];
        assertThat(phi).contains(mrn, account);

        String found = console.perform(org.springframework.test.web.servlet.request.MockMvcRequestBuilders
                        .get("/console/messages?patient=" + mrn).principal(operator))
                .andReturn().getResponse().getContentAsString(StandardCharsets.UTF_8);
        assertThat(found).contains("data-message-id=\"" + id + "\""); // the page shows what the log must not
        console.perform(org.springframework.test.web.servlet.request.MockMvcRequestBuilders
                .get("/console/messages?account=" + account).principal(operator));
        String page = console.perform(org.springframework.test.web.servlet.request.MockMvcRequestBuilders
                        .get("/console/messages/" + id).principal(operator))
                .andReturn().getResponse().getContentAsString(StandardCharsets.UTF_8);
        assertThat(page).contains(mrn);
        console.perform(org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get("/console").principal(operator));
        console.perform(org.springframework.test.web.servlet.request.MockMvcRequestBuilders
                .get("/console/replay?count=1&patient=" + mrn).principal(operator));
        console.perform(org.springframework.test.web.servlet.request.MockMvcRequestBuilders
                .post("/console/replay").param("patient", mrn).principal(operator));
        console.perform(org.springframework.test.web.servlet.request.MockMvcRequestBuilders
                .post("/console/messages/" + id + "/replay").principal(operator));
        console.perform(org.springframework.test.web.servlet.request.MockMvcRequestBuilders
                .get("/console/audit").principal(operator));

        String logs = output.getAll();
        // the capture is live: Spring MVC logs each request with its query string at DEBUG
        assertThat(logs).contains("/console/messages/" + id).contains("/console/messages?patient=%5Bhidden%5D");
        List<String> leaks = new ArrayList<>();
        for (String value : phi) {
            int at = logs.indexOf(value);
            if (at >= 0) {
                leaks.add(value + " in: " + logs.substring(Math.max(0, logs.lastIndexOf('\n', at) + 1),
                        Math.min(logs.length(), at + 80)));
            }
        }
        System.out.println("No-PHI console check: " + phi.size() + " identifiers, " + logs.length()
                + " characters of log, " + leaks.size() + " leaks");
        assertThat(leaks).isEmpty();
    }

    /**
     * Tokens and secrets at DEBUG (Spring Security, Camel, our code): a rejected bearer token, one
     * used on the wrong interface, a wrong and a right client secret — none of them, nor the Basic
     * header carrying them, may reach the logs.
     */
    @Test
    void noTokensOrSecretsReachTheLogs(CapturedOutput output) throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "TOK-" + System.nanoTime());
        String valid = Tokens.fetch("http://127.0.0.1:" + port, Tokens.MERCY, "mercy-demo-secret", "ingest:mercy-or");
        String[] parts = valid.split("\\.");
        String tampered = parts[0] + "." + parts[1] + "." + new StringBuilder(parts[2]).reverse();
        String forged = parts[0] + "." + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
                "{\"sub\":\"forged-subject-7731\",\"scope\":\"ingest:mercy-or\"}".getBytes(StandardCharsets.UTF_8)) + "." + parts[2];
        assertThat(post("mercy-or", er7, tampered, "application/hl7-v2").statusCode()).isEqualTo(401);
        assertThat(post("mercy-or", er7, forged, "application/hl7-v2").statusCode()).isEqualTo(401);
        assertThat(post("lakeside-cath", er7, valid, "application/hl7-v2").statusCode()).isEqualTo(403);
        assertThat(post("mercy-or", er7, valid, "application/hl7-v2").body()).contains("MSA|AA");
        String wrongSecret = "not-the-secret-4711";
        assertThat(Tokens.request("http://127.0.0.1:" + port, Tokens.MERCY, wrongSecret, "ingest:mercy-or").statusCode())
                .isEqualTo(401);

        String logs = output.getAll();
        assertThat(logs).contains("mercy-or"); // the capture is live
        java.util.Map<String, String> secrets = new java.util.LinkedHashMap<>();
        secrets.put("valid token", valid);
        secrets.put("token signature", parts[2]);
        secrets.put("tampered token", tampered);
        secrets.put("forged token", forged);
        secrets.put("forged claims", forged.split("\\.")[1]);
        secrets.put("client secret", "mercy-demo-secret");
        secrets.put("wrong secret", wrongSecret);
        secrets.put("basic credentials", java.util.Base64.getEncoder().encodeToString(
                (Tokens.MERCY + ":" + wrongSecret).getBytes(StandardCharsets.UTF_8)));
        List<String> leaks = new ArrayList<>();
        secrets.forEach((what, value) -> {
            int at = logs.indexOf(value);
            if (at >= 0) {
                leaks.add(what + " in: " + logs.substring(Math.max(0, logs.lastIndexOf('\n', at) + 1),
                        Math.min(logs.length(), at)) + "…");
            }
        });
        System.out.println("No-secrets check: " + secrets.size() + " tokens/secrets, " + logs.length()
                + " characters of log, " + leaks.size() + " leaks");
        assertThat(leaks).isEmpty();
    }

    /**
     * Names, MRNs, birth dates, addresses and account/visit numbers of the samples' patients, and
     * their implants' serial numbers (device serials are HIPAA identifiers too).
     */
    static Set<String> identifiers(List<String> samples) {
        Set<String> phi = new LinkedHashSet<>();
        for (String sample : samples) {
            for (String segment : sample.split("\r")) {
                String[] f = segment.split("\\|", -1);
                if (f[0].equals("PID")) {
                    phi.add(f[3].split("\\^")[0]);                       // MRN
                    for (String name : f[5].split("\\^")) {              // family, given, middle
                        if (name.length() > 1) {
                            phi.add(name);
                        }
                    }
                    phi.add(f[7]);                                       // birth date
                    String[] address = f[11].split("\\^");
                    phi.add(address[0]);                                 // street
                    phi.add(address[2]);                                 // city
                    phi.add(f[18].split("\\^")[0]);                      // account number
                }
                if (f[0].equals("PV1") && f.length > 19) {
                    phi.add(f[19].split("\\^")[0]);                      // visit number
                }
                if (f[0].equals("ZIM") && f.length > 4) {
                    phi.add(f[4]);                                       // implant serial number
                }
                if (f[0].equals("PRT") && f.length > 20) {
                    phi.add(f[20]);                                      // implant serial number
                }
            }
        }
        phi.remove("");
        return phi;
    }

    private String token(String iface) {
        return Tokens.sample(port, iface.equals("lakeside-cath") ? Tokens.LAKESIDE : Tokens.MERCY, "ingest:" + iface);
    }

    private HttpResponse<String> post(String iface, String er7, String token, String type) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hl7/" + iface))
                .header("Content-Type", type).POST(HttpRequest.BodyPublishers.ofString(er7));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
