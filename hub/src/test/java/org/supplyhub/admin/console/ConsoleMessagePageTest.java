package org.supplyhub.admin.console;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.web.servlet.AutoConfigureMockMvc;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.authority.AuthorityUtils;
import org.springframework.security.oauth2.client.authentication.OAuth2AuthenticationToken;
import org.springframework.security.oauth2.core.oidc.OidcIdToken;
import org.springframework.security.oauth2.core.oidc.user.DefaultOidcUser;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.MockMvc;
import org.springframework.test.web.servlet.MvcResult;
import org.supplyhub.admin.MessageQueries;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.support.Await;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.flash;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.redirectedUrl;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/**
 * The console's pages and actions against the full hub on PostgreSQL, with the security filters off
 * (console-auth's chain decides who may request what; these pages decide what to show, and audit):
 * the dashboard's tables and their alerts, the message search by MRN (keyed hash, audited by the
 * patient's key), the message page segment by segment, HTML-escaped, and the operator's actions —
 * replay of a dead delivery that the receiver then gets once, bulk replay with count and confirm,
 * re-map, pause — each audited as {@code user:<name>}; a viewer sees no action and is refused one.
 */
@SpringBootTest
@AutoConfigureMockMvc(addFilters = false)
@DirtiesContext
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the replays change what the dashboard shows
class ConsoleMessagePageTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final int RECEIVER_PORT = TestInterfaces.freePort();
    static final String SAMPLE = Samples.read(Samples.MERCY);
    static final String MRN = "MRN448812";
    static volatile boolean receiverAccepts;
    static final Map<String, AtomicInteger> received = new ConcurrentHashMap<>();
    static HttpServer receiver;

    static final Authentication VIEWER = oidc("viewer",
            "SCOPE_messages:read", "SCOPE_metrics:read");
    static final Authentication OPERATOR = oidc("operator", "SCOPE_messages:read", "SCOPE_metrics:read",
            "SCOPE_messages:replay");
    static final Authentication ADMIN = oidc("admin", "SCOPE_messages:read", "SCOPE_metrics:read",
            "SCOPE_messages:replay", "SCOPE_config:write", "SCOPE_audit:read");

    @Autowired
    MockMvc mvc;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    IntakeService intake;
    @Autowired
    RunningConfig config;
    @Autowired
    MessageQueries messages;

    static long accepted;
    static long escaped;
    static long unmapped;
    static long rejected;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", RECEIVER_PORT), 0);
        receiver.createContext("/stock", exchange -> {
            exchange.getRequestBody().readAllBytes();
            if (receiverAccepts) {
                received.computeIfAbsent(exchange.getRequestHeaders().getFirst("Idempotency-Key"),
                        k -> new AtomicInteger()).incrementAndGet();
            }
            exchange.sendResponseHeaders(receiverAccepts ? 200 : 400, -1); // 400: dead at once
            exchange.close();
        });
        receiver.start();
        Files.writeString(INTERFACES.routesDir.resolve("console.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: console-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: "console-stock" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: console-stock }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%d/stock" }
                      - { name: pollInterval, value: 100ms }
                """.formatted(RECEIVER_PORT));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.config.watch", () -> "false");
    }

    @AfterAll
    static void stop() {
        receiver.stop(0);
    }

    @BeforeAll
    static void messagesArrive(@Autowired IntakeService intake, @Autowired RunningConfig config,
                               @Autowired JdbcTemplate jdbc) throws Exception {
        accepted = receive(intake, config, jdbc, "console-or", Samples.withControlId(SAMPLE, "CON-1"), "AA");
        escaped = receive(intake, config, jdbc, "mercy-or", Samples.withControlId(SAMPLE, "CON-2")
                .replace("SUTURE VICRYL 2-0 CT-1", "SUTURE <script>alert(1)</script>"), "AA");
        unmapped = receive(intake, config, jdbc, "mercy-or",
                Samples.withField(Samples.withControlId(SAMPLE, "CON-AE"), "FT1", 10, "two"), "AE");
        rejected = receive(intake, config, jdbc, "mercy-or",
                Samples.withField(Samples.withControlId(SAMPLE, "CON-AR"), "MSH", 8, "ADT^A01"), "AR");
        Await.until(() -> jdbc.queryForObject("select count(*) from outbox where destination = 'console-stock'"
                + " and status = 'DEAD'", Integer.class) == 1, 30);
    }

    private static long receive(IntakeService intake, RunningConfig config, JdbcTemplate jdbc, String iface, String er7,
                                String ack) {
        var result = intake.receive(config.get(iface), er7.getBytes(StandardCharsets.UTF_8), null, "test");
        assertThat(result.ackCode()).isEqualTo(ack);
        return jdbc.queryForObject("select max(id) from message where control_id = ?", Long.class, Samples.controlId(er7));
    }

    @Test
    @Order(1)
    void dashboardShowsInterfacesAndDestinationsAndMarksWhatNeedsAPerson() throws Exception {
        String page = html(get("/console"), VIEWER);
        assertThat(page).contains("id=\"signed-in-user\">viewer<").contains("id=\"signed-in-role\">viewer<")
                .contains("<form id=\"logout\" method=\"post\" action=\"/console/logout\">")
                .doesNotContain("class=\"action").doesNotContain("/console/audit");
        String interfaces = element(page, "table", "interfaces");
        String mercy = row(interfaces, "data-interface=\"mercy-or\"");
        // today: two AA (CON-2 and nothing else), one AE, one AR → a person should look
        assertThat(mercy).contains("class=\"alert\"").contains("⚠ 1 AR and 1 AE today").contains("MLLP " + INTERFACES.ports.get("mercy-or"));
        assertThat(cells(mercy)).containsSubsequence("1", "1", "1"); // AA, AE, AR today
        assertThat(row(interfaces, "data-interface=\"console-or\"")).doesNotContain("alert").contains("POST /hl7/console-or");
        String destinations = element(page, "table", "destinations");
        assertThat(row(destinations, "data-destination=\"console-stock\"")).contains("class=\"alert\"").contains("⚠ 1 dead")
                .contains("400");
        assertThat(row(destinations, "data-destination=\"mercy-inventory\"")).doesNotContain("alert");

        String operatorPage = html(get("/console"), OPERATOR);
        assertThat(operatorPage).contains("id=\"signed-in-user\">operator<").contains("id=\"signed-in-role\">operator<")
                .contains("action=\"/console/destinations/console-stock/pause\"").contains("class=\"action");
        assertThat(html(get("/console"), ADMIN)).contains("id=\"signed-in-user\">Ada Admin<").contains("id=\"signed-in-role\">admin<").contains("href=\"/console/audit\"");
        // with the security chain's CSRF token on the request, every POST form carries it (logout, pause…)
        var csrf = new org.springframework.security.web.csrf.DefaultCsrfToken("X-CSRF-TOKEN", "_csrf", "csrf-7f3a");
        String withToken = html(get("/console").requestAttr(org.springframework.security.web.csrf.CsrfToken.class.getName(),
                csrf), OPERATOR);
        assertThat(element(withToken, "form", "logout")).contains("name=\"_csrf\" value=\"csrf-7f3a\"");
        assertThat(Pattern.compile("<form[^>]*method=\"post\"").matcher(withToken).results().count())
                .isEqualTo(Pattern.compile("name=\"_csrf\" value=\"csrf-7f3a\"").matcher(withToken).results().count())
                .isGreaterThan(1);

        // the htmx fragments are the tables alone
        String fragment = html(get("/console/fragments/destinations"), VIEWER);
        assertThat(fragment.strip()).startsWith("<table id=\"destinations\">").doesNotContain("<html");
        assertThat(html(get("/console/fragments/interfaces"), VIEWER).strip()).startsWith("<table id=\"interfaces\">");
        assertThat(page).contains("hx-get=\"/console/fragments/destinations\"").contains("/console/assets/htmx.min.js");
    }

    @Test
    @Order(2)
    void searchByMrnFindsTheMessageAndIsAuditedByThePatientsKey() throws Exception {
        String page = html(get("/console/messages").param("patient", MRN).param("interface", "console-or"), VIEWER);
        assertThat(element(page, "form", "message-search")).contains("name=\"patient\"").contains("value=\"" + MRN + "\"");
        assertThat(messageRows(page)).containsExactly(accepted);
        assertThat(page).doesNotContain("<title>" + MRN);

        // newest first; keyset paging with before
        List<Long> all = messageRows(html(get("/console/messages").param("patient", MRN), VIEWER));
        // the AE and the AR carry the same PID-3 and are found too: an operator looks for failed messages by MRN
        assertThat(all).containsExactly(rejected, unmapped, escaped, accepted).isSortedAccordingTo((a, b) -> Long.compare(b, a));
        assertThat(messageRows(html(get("/console/messages").param("patient", MRN).param("before", String.valueOf(escaped)),
                VIEWER))).containsExactly(accepted);
        assertThat(messageRows(html(get("/console/messages").param("ack", "AE"), VIEWER))).containsExactly(unmapped);
        assertThat(messageRows(html(get("/console/messages").param("patient", "MRN-NOBODY"), VIEWER))).isEmpty();

        List<Map<String, Object>> audit = jdbc.queryForList("select actor, target, patient_key, detail from audit_event"
                + " where action = 'MESSAGE_SEARCH' and actor = 'user:viewer' and target = 'patient' order by id");
        assertThat(audit).isNotEmpty();
        assertThat(audit.get(0).get("patient_key")).isEqualTo(messages.patientKey(MRN));
        assertThat(audit.toString()).doesNotContain(MRN);

        // a bad date is a 400 naming the field, not a stack trace
        String bad = mvc.perform(get("/console/messages").param("since", "yesterday").principal(VIEWER))
                .andExpect(status().isBadRequest()).andReturn().getResponse().getContentAsString();
        assertThat(bad).contains("since: a date and time");
    }

    @Test
    @Order(3)
    void messagePageShowsSegmentsFieldByFieldEscapedAndIsAudited() throws Exception {
        String page = html(get("/console/messages/" + escaped), VIEWER);
        assertThat(page).contains("<title>Message " + escaped + " · Supply Hub</title>");
        assertThat(page).contains("<th scope=\"row\">FT1-7</th>").contains("<th scope=\"row\">MSH-1</th><td><code>|</code>")
                .contains("<th scope=\"row\">MSH-2</th><td><code>^~\\&amp;</code>")
                .contains("<th scope=\"row\">MSH-10</th><td><code>CON-2</code>")
                .contains("<th scope=\"row\">ZIM-4</th>");
        assertThat(page).contains("SUTURE &lt;script&gt;alert(1)&lt;/script&gt;").doesNotContain("<script>alert(1)");
        assertThat(element(page, "pre", "usage")).contains("&quot;lines&quot;");
        assertThat(page).contains("data-destination=\"mercy-billing\"").contains("data-destination=\"mercy-inventory\"")
                .doesNotContain("class=\"action");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'MESSAGE_READ'"
                + " and actor = 'user:viewer' and message_id = ?", Integer.class, escaped)).isEqualTo(1);

        mvc.perform(get("/console/messages/999999999").principal(VIEWER)).andExpect(status().isNotFound());
    }

    @Test
    @Order(4)
    void operatorReplaysTheDeadDeliveryAndTheReceiverGetsItOnce() throws Exception {
        String page = html(get("/console/messages/" + accepted), OPERATOR);
        assertThat(row(page, "data-destination=\"console-stock\"")).contains("⚠ DEAD")
                .contains("action=\"/console/messages/" + accepted + "/replay\"");
        // a viewer is refused, and the row stays dead
        mvc.perform(post("/console/messages/" + accepted + "/replay").principal(VIEWER)).andExpect(status().isForbidden());
        assertThat(stockStatus(accepted)).isEqualTo("DEAD");

        receiverAccepts = true;
        mvc.perform(post("/console/messages/" + accepted + "/replay").param("destination", "console-stock")
                        .principal(OPERATOR))
                .andExpect(redirectedUrl("/console/messages/" + accepted))
                .andExpect(flash().attribute("flash", "1 dead delivery of message " + accepted
                        + " queued again to console-stock."));
        Await.until(() -> "DELIVERED".equals(stockStatus(accepted)), 30);
        Thread.sleep(500);
        assertThat(received).hasSize(1);
        assertThat(received.values().iterator().next().get()).isEqualTo(1);
        assertThat(jdbc.queryForObject("select outcome || ' ' || detail from audit_event where action = 'REPLAY'"
                + " and actor = 'user:operator' and message_id = ?", String.class, accepted))
                .isEqualTo("OK 1 dead deliveries made due");
        // nothing dead any more: the second replay says so
        mvc.perform(post("/console/messages/" + accepted + "/replay").principal(OPERATOR))
                .andExpect(flash().attribute("flashKind", "error"));
    }

    @Test
    @Order(5)
    void bulkReplayCountsFirstThenReplaysOnConfirm() throws Exception {
        receiverAccepts = false;
        long second = receive(intake, config, jdbc, "console-or", Samples.withControlId(SAMPLE, "CON-BULK"), "AA");
        Await.until(() -> "DEAD".equals(stockStatus(second)), 30);
        String counted = html(get("/console/replay").param("interface", "console-or").param("destination", "console-stock")
                .param("count", "1"), OPERATOR);
        int dead = jdbc.queryForObject("select count(*) from outbox where destination = 'console-stock' and status = 'DEAD'",
                Integer.class);
        assertThat(element(counted, "strong", "dead-count")).contains(">" + dead + "<");
        assertThat(element(counted, "form", "replay-confirm")).contains("name=\"interface\" value=\"console-or\"")
                .contains("name=\"destination\" value=\"console-stock\"").contains("method=\"post\"");
        assertThat(stockStatus(second)).as("counting replays nothing").isEqualTo("DEAD");
        mvc.perform(get("/console/replay").principal(VIEWER)).andExpect(status().isForbidden());

        receiverAccepts = true;
        mvc.perform(post("/console/replay").param("interface", "console-or").param("destination", "console-stock")
                        .principal(OPERATOR))
                .andExpect(redirectedUrl("/console"))
                .andExpect(flash().attribute("flashKind", "ok"));
        Await.until(() -> "DELIVERED".equals(stockStatus(second)), 30);
        assertThat(jdbc.queryForList("select action || ' ' || outcome || ' ' || detail from audit_event"
                        + " where action like 'REPLAY_BULK%' and actor = 'user:operator' order by id", String.class))
                .containsExactly("REPLAY_BULK_COUNT OK " + dead + " dead deliveries of " + dead + " messages matched",
                        "REPLAY_BULK OK " + dead + " dead deliveries of " + dead + " messages made due");
    }

    @Test
    @Order(6)
    void reprocessAndPauseAreAuditedActionsWithAFlash() throws Exception {
        mvc.perform(post("/console/messages/" + unmapped + "/reprocess").principal(OPERATOR))
                .andExpect(redirectedUrl("/console/messages/" + unmapped))
                .andExpect(flash().attribute("flashKind", "error"));
        assertThat(jdbc.queryForObject("select outcome from audit_event where action = 'REPROCESS' and actor = 'user:operator'"
                + " and message_id = ?", String.class, unmapped)).isEqualTo("STILL_FAILING");
        mvc.perform(post("/console/messages/" + unmapped + "/reprocess").principal(VIEWER)).andExpect(status().isForbidden());
        mvc.perform(post("/console/messages/999999999/reprocess").principal(OPERATOR)).andExpect(status().isNotFound());
        mvc.perform(post("/console/messages/999999999/replay").principal(OPERATOR)).andExpect(status().isNotFound());

        mvc.perform(post("/console/destinations/mercy-inventory/pause").principal(OPERATOR))
                .andExpect(redirectedUrl("/console"))
                .andExpect(flash().attribute("flash", "Destination mercy-inventory paused."));
        String dashboard = html(get("/console"), OPERATOR);
        assertThat(row(element(dashboard, "table", "destinations"), "data-destination=\"mercy-inventory\""))
                .contains("class=\"alert\"").contains("⚠ paused").contains("Paused by user:operator")
                .contains("action=\"/console/destinations/mercy-inventory/resume\"");
        mvc.perform(post("/console/destinations/mercy-inventory/resume").principal(OPERATOR))
                .andExpect(flash().attribute("flash", "Destination mercy-inventory resumed."));
        assertThat(jdbc.queryForList("select action from audit_event where actor = 'user:operator'"
                + " and target = 'destination mercy-inventory' order by id", String.class))
                .containsExactly("DESTINATION_PAUSE", "DESTINATION_RESUME");
    }

    @Test
    @Order(7)
    void auditPageIsForAdminsFiltersAndIsItselfAudited() throws Exception {
        html(get("/console/messages").param("patient", MRN), VIEWER);
        mvc.perform(get("/console/audit").principal(OPERATOR)).andExpect(status().isForbidden());
        String page = html(get("/console/audit").param("actor", "user:viewer").param("action", "MESSAGE_SEARCH"), ADMIN);
        String table = element(page, "table", "audit");
        assertThat(table).contains("<td>user:viewer</td>").contains("<td>MESSAGE_SEARCH</td>")
                .doesNotContain("<td>user:operator</td>").doesNotContain(MRN);
        String since = Instant.now().plusSeconds(3600).toString();
        assertThat(html(get("/console/audit").param("since", since), ADMIN)).contains("No events match.");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'AUDIT_READ' and actor = 'user:admin'",
                Integer.class)).isEqualTo(2);
    }

    // --- helpers

    private String stockStatus(long messageId) {
        return jdbc.queryForObject("select status from outbox where message_id = ? and destination = 'console-stock'",
                String.class, messageId);
    }

    @Test
    @Order(8)
    void aPurgedMessageSaysSoAndShowsNoContentOrReprocess() throws Exception {
        long purged = receive(intake, config, jdbc, "mercy-or", Samples.withControlId(SAMPLE, "CON-PURGED"), "AA");
        // what the retention purge leaves (RetentionPurge): the row with purged_at and its reason
        jdbc.update("update message set purged_at = current_timestamp, purge_reason = 'content 30d' where id = ?", purged);
        String page = html(get("/console/messages/" + purged), OPERATOR);
        assertThat(page).contains("id=\"purged\"").contains("Content purged on ").contains("(retention: content 30d)")
                .contains("CON-PURGED")
                .doesNotContain("id=\"raw\"").doesNotContain("FT1-7").doesNotContain("id=\"usage\"")
                .doesNotContain("/reprocess").doesNotContain(MRN);
    }

    private String html(org.springframework.test.web.servlet.request.MockHttpServletRequestBuilder request,
                        Authentication who) throws Exception {
        MvcResult r = mvc.perform(request.principal(who)).andExpect(status().isOk()).andReturn();
        return r.getResponse().getContentAsString(StandardCharsets.UTF_8);
    }

    /** The element with this id, up to its first closing tag (the tables here nest none). */
    static String element(String html, String tag, String id) {
        Matcher m = Pattern.compile("<" + tag + "\\b[^>]*\\bid=\"" + Pattern.quote(id) + "\"[^>]*>.*?</" + tag + ">",
                Pattern.DOTALL).matcher(html);
        assertThat(m.find()).as("<%s id=%s> in the page", tag, id).isTrue();
        return m.group();
    }

    /** The table row carrying this attribute text. */
    static String row(String html, String marker) {
        Matcher m = Pattern.compile("<tr\\b[^>]*" + Pattern.quote(marker) + "[^>]*>.*?</tr>", Pattern.DOTALL).matcher(html);
        assertThat(m.find()).as("row %s", marker).isTrue();
        return m.group();
    }

    static List<String> cells(String row) {
        return Pattern.compile("<td[^>]*>(.*?)</td>", Pattern.DOTALL).matcher(row).results().map(r -> r.group(1).strip())
                .toList();
    }

    static List<Long> messageRows(String html) {
        return Pattern.compile("<tr class=\"message-row[^\"]*\" data-message-id=\"(\\d+)\"").matcher(html).results()
                .map(r -> Long.parseLong(r.group(1))).toList();
    }

    static Authentication oidc(String username, String... scopes) {
        // a console session carries its role besides its scopes (ROLE_viewer|operator|admin)
        var authorities = AuthorityUtils.createAuthorityList(scopes);
        authorities.add(new org.springframework.security.core.authority.SimpleGrantedAuthority("ROLE_" + username));
        OidcIdToken base = OidcIdToken.withTokenValue("id-token").subject("sub-" + username)
                .claim("preferred_username", username).issuedAt(Instant.now()).expiresAt(Instant.now().plusSeconds(600))
                .build();
        // the admin has a display name: the header shows it, the audit trail keeps the login name
        OidcIdToken token = username.equals("admin") ? OidcIdToken.withTokenValue("id-token")
                .claims(c -> c.putAll(base.getClaims())).claim("name", "Ada Admin").build() : base;
        return new OAuth2AuthenticationToken(new DefaultOidcUser(authorities, token), authorities, "hub");
    }
}
