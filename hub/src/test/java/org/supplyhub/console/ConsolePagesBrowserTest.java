package org.supplyhub.console;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.WebElement;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.support.Await;
import org.supplyhub.support.Browser;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real console pages in a real browser (headless Chromium) on the full application with
 * PostgreSQL and delivery running: a delivery to a real HTTP receiver goes DEAD (the receiver refuses
 * with 400), the operator replays it from the message page once the receiver accepts, and the receiver
 * gets it exactly once; a search by MRN finds the message and the audit trail, on the admin's audit
 * page and in audit_event, names who searched; the viewer reads the message page without a single
 * {@code .action} control. Screenshots of the dashboard and a message page go to target/screenshots.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class ConsolePagesBrowserTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final int PORT = TestInterfaces.freePort();
    static final int RECEIVER_PORT = TestInterfaces.freePort();
    static final String BASE = "http://localhost:" + PORT;
    static final String MRN = "MRN448812";
    static volatile boolean receiverAccepts;
    /** idempotency key → times the receiver accepted it. */
    static final Map<String, AtomicInteger> received = new ConcurrentHashMap<>();
    static HttpServer receiver;
    static Browser browser;
    static long messageId;

    @Autowired
    JdbcTemplate jdbc;

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
        Files.writeString(INTERFACES.routesDir.resolve("browser.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: browser-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: "browser-stock" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: browser-stock }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%d/stock" }
                      - { name: pollInterval, value: 100ms }
                """.formatted(RECEIVER_PORT));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.config.watch", () -> "false");
        registry.add("server.port", () -> PORT);
        registry.add("hub.security.issuer", () -> BASE);
    }

    @BeforeAll
    static void start(@Autowired IntakeService intake, @Autowired RunningConfig config, @Autowired JdbcTemplate jdbc) throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "BROWSER-1");
        assertThat(intake.receive(config.get("browser-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test").ackCode())
                .isEqualTo("AA");
        messageId = jdbc.queryForObject("select max(id) from message where control_id = 'BROWSER-1'", Long.class);
        Await.until(() -> jdbc.queryForObject("select count(*) from outbox where destination = 'browser-stock'"
                + " and message_id = ? and status = 'DEAD'", Integer.class, messageId) == 1, 30);
        browser = Browser.start();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        receiver.stop(0);
    }

    private Browser signedIn(String user, String password) {
        browser.driver().manage().deleteAllCookies();
        browser.open(BASE + "/console");
        browser.signIn(user, password);
        browser.await("#signed-in-user");
        return browser;
    }

    private static List<String> texts(List<WebElement> elements) {
        return elements.stream().map(WebElement::getText).toList();
    }

    @Test
    void theOperatorReplaysADeadDeliveryFromTheMessagePageAndTheReceiverGetsItOnce() throws Exception {
        Browser b = signedIn("operator", "operator-demo-password");
        // the dashboard: the interface and the destination, the dead one marked for a person
        b.await("table#interfaces");
        assertThat(b.text("table#interfaces tr[data-interface='browser-or']")).contains("browser-or");
        String destination = b.text("table#destinations tr[data-destination='browser-stock']");
        assertThat(destination).contains("browser-stock").containsIgnoringCase("dead");
        assertThat(b.await("table#destinations tr[data-destination='browser-stock']").getDomAttribute("class")).contains("alert");
        b.screenshot("console-dashboard");

        b.open(BASE + "/console/messages/" + messageId);
        assertThat(b.text("h1")).isEqualTo("Message " + messageId);
        assertThat(b.text("#summary")).contains("browser-or").contains("BROWSER-1").contains("ACCEPTED");
        // the raw message segment by segment, with field numbers
        assertThat(texts(b.all("#raw table.segment caption"))).contains("1. MSH").anyMatch(c -> c.endsWith(". FT1"));
        assertThat(texts(b.all("#raw table.segment th[scope=row]"))).contains("MSH-9", "PID-3", "FT1-7");
        assertThat(b.text("tr.delivery-row[data-destination='browser-stock']")).contains("DEAD");
        assertThat(b.all("#fhir, details.fhir")).isNotEmpty();
        b.screenshot("console-message-dead");

        receiverAccepts = true;
        b.await("tr.delivery-row[data-destination='browser-stock'] form.action button").click();
        Await.until(() -> jdbc.queryForObject("select status from outbox where destination = 'browser-stock' and message_id = ?",
                String.class, messageId).equals("DELIVERED"), 30);
        Thread.sleep(1000); // a second delivery would have arrived by now (polls every 100 ms)
        assertThat(received).hasSize(1);
        assertThat(received.values().iterator().next().get()).as("received exactly once").isEqualTo(1);
        b.open(BASE + "/console/messages/" + messageId);
        assertThat(b.text("tr.delivery-row[data-destination='browser-stock']")).contains("DELIVERED");
        assertThat(b.all("tr.delivery-row[data-destination='browser-stock'] form.action")).isEmpty();
        b.screenshot("console-message");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where actor = 'user:operator' and action like '%REPLAY%'",
                Integer.class)).isPositive();
    }

    @Test
    void anHtmxPostCarriesTheCsrfTokenAsAHeaderAndIsRefusedWithoutIt() throws Exception {
        Browser b = signedIn("operator", "operator-demo-password");
        b.await("table#destinations");
        assertThat(b.await("meta[name=_csrf]").getDomAttribute("content")).isNotBlank();
        // htmx's own POST from the page (console.js adds the header): it passes and pauses the destination
        ((org.openqa.selenium.JavascriptExecutor) b.driver()).executeScript(
                "htmx.ajax('POST', '/console/destinations/browser-stock/pause', {target: 'body', swap: 'none'})");
        Await.until(() -> paused("browser-stock"), 15);
        // the same POST with the htmx marker but without the token is refused and changes nothing
        var http = java.net.http.HttpClient.newHttpClient();
        var refused = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(BASE + "/console/destinations/browser-stock/resume"))
                .header("Cookie", "JSESSIONID=" + b.cookie("JSESSIONID")).header("HX-Request", "true")
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(paused("browser-stock")).isTrue();
        jdbc.update("update destination_state set paused = false where destination = 'browser-stock'");
    }

    private boolean paused(String destination) {
        return jdbc.queryForObject("select count(*) from destination_state where destination = ? and paused", Integer.class,
                destination) == 1;
    }

    @Test
    void aSearchByMrnFindsTheMessageAndTheAuditTrailNamesWhoSearched() {
        Browser b = signedIn("viewer", "viewer-demo-password");
        b.open(BASE + "/console/messages");
        b.await("form#message-search input[name=patient]").sendKeys(MRN);
        b.await("form#message-search button[type=submit]").click();
        b.await("tr.message-row");
        assertThat(b.all("tr.message-row").stream().map(r -> r.getDomAttribute("data-message-id")))
                .contains(String.valueOf(messageId));
        assertThat(jdbc.queryForObject("select count(*) from audit_event where actor = 'user:viewer'"
                + " and action = 'MESSAGE_SEARCH' and target = 'patient'", Integer.class)).isPositive();
        // the MRN itself is nowhere in the audit trail: the search is named by the patient's key
        assertThat(jdbc.queryForObject("select count(*) from audit_event where coalesce(detail, '') like ?"
                + " or coalesce(target, '') like ?", Integer.class, "%" + MRN + "%", "%" + MRN + "%")).isZero();

        Browser admin = signedIn("admin", "admin-demo-password");
        admin.open(BASE + "/console/audit?actor=user:viewer&action=MESSAGE_SEARCH");
        admin.await("tr.audit-row");
        assertThat(texts(admin.all("tr.audit-row"))).anyMatch(row -> row.contains("user:viewer")
                && row.contains("MESSAGE_SEARCH") && row.contains("patient"));
        admin.screenshot("console-audit");
    }

    @Test
    void theViewerReadsTheMessagePageWithoutActions() {
        Browser b = signedIn("viewer", "viewer-demo-password");
        b.open(BASE + "/console/messages/" + messageId);
        assertThat(b.text("#signed-in-role")).isEqualTo("viewer");
        assertThat(texts(b.all("#raw table.segment th[scope=row]"))).contains("FT1-7");
        assertThat(b.all("tr.delivery-row[data-destination='browser-stock']")).hasSize(1);
        assertThat(b.all(".action")).isEmpty();
        b.screenshot("console-message-viewer");
    }
}
