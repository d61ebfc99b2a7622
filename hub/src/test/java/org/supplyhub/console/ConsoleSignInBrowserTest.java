package org.supplyhub.console;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.Browser;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * People sign in to the console in a real browser (headless Chromium) at the hub's embedded issuer,
 * on the full application with PostgreSQL: the page names them and their role, a viewer gets no
 * action controls and a forged POST from their session is 403, signing out and an idle session both
 * end at the sign-in page, and the session opens nothing of the API.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class ConsoleSignInBrowserTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final int PORT = TestInterfaces.freePort();
    /** Sessions end after this long without a request (short, for the expiry test). */
    static final int IDLE_SECONDS = 8;
    /** The issuer's name, and so the console's: browsers use it, cookies belong to it. */
    static final String BASE = "http://localhost:" + PORT;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.delivery.enabled", () -> "false");
        registry.add("server.port", () -> PORT);
        registry.add("hub.security.issuer", () -> BASE);
        registry.add("hub.console.idle-timeout", () -> IDLE_SECONDS + "s");
    }

    static Browser browser;
    final HttpClient http = HttpClient.newHttpClient();

    @Autowired
    JdbcTemplate jdbc;

    @BeforeAll
    static void startBrowser() {
        browser = Browser.start();
    }

    @AfterAll
    static void stopBrowser() {
        if (browser != null) {
            browser.close();
        }
    }

    /** A fresh browser session: no cookie of an earlier test. */
    private Browser signedIn(String user, String password) {
        browser.driver().manage().deleteAllCookies();
        browser.open(BASE + "/console");
        assertThat(browser.url()).startsWith(BASE + "/login");
        browser.signIn(user, password);
        browser.await("#signed-in-user");
        // back where they asked to go (Spring marks the replayed request with ?continue)
        assertThat(browser.url()).matches(java.util.regex.Pattern.quote(BASE + "/console") + "(\\?continue)?");
        return browser;
    }

    @Test
    void aViewerSignsInAndSeesNoActions() {
        Browser b = signedIn("viewer", "viewer-demo-password");
        assertThat(b.text("#signed-in-user")).isEqualTo("Val Viewer");
        assertThat(b.text("#signed-in-role")).isEqualTo("viewer");
        assertThat(b.all(".action")).isEmpty();
        b.screenshot("console-viewer-signed-in");
    }

    @Test
    void anOperatorSignsInAndSeesActions() {
        Browser b = signedIn("operator", "operator-demo-password");
        assertThat(b.text("#signed-in-user")).isEqualTo("Olu Operator");
        assertThat(b.text("#signed-in-role")).isEqualTo("operator");
        assertThat(b.all(".action")).isNotEmpty();
        b.screenshot("console-operator-signed-in");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'SIGN_IN' and actor = 'user:operator'",
                Integer.class)).isPositive();
    }

    @Test
    void aWrongPasswordStaysAtTheSignInPage() {
        browser.driver().manage().deleteAllCookies();
        browser.open(BASE + "/console").signIn("viewer", "not-the-password");
        assertThat(browser.text("#sign-in-error")).contains("not right");
        assertThat(browser.all("#signed-in-user")).isEmpty();
        browser.screenshot("console-sign-in-refused");
    }

    @Test
    void aForgedPostFromAViewersSessionIsForbidden() throws Exception {
        Browser b = signedIn("viewer", "viewer-demo-password");
        String session = b.cookie("JSESSIONID");
        String csrf = b.await("form#logout input[name=_csrf]").getDomAttribute("value");
        long before = lastAuditId();
        HttpResponse<String> forged = post("/console/messages/1/replay", session, "_csrf=" + URLEncoder.encode(csrf, StandardCharsets.UTF_8));
        assertThat(forged.statusCode()).isEqualTo(403);
        assertThat(forged.body()).contains("does not allow");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'ACCESS_DENIED' and actor = 'user:viewer'"
                + " and target = 'POST /console/messages/1/replay' and id > ?", Integer.class, before)).isEqualTo(1);
        // without the CSRF token it is refused too, whoever sends it
        assertThat(post("/console/messages/1/replay", session, "").statusCode()).isEqualTo(403);
        // the same session still serves pages: a 403 ends nothing
        assertThat(get("/console", session, null).statusCode()).isEqualTo(200);
    }

    @Test
    void anOperatorsSessionPassesTheReplayRule() throws Exception {
        Browser b = signedIn("operator", "operator-demo-password");
        String csrf = b.await("form#logout input[name=_csrf]").getDomAttribute("value");
        HttpResponse<String> replay = post("/console/messages/1/replay", b.cookie("JSESSIONID"),
                "_csrf=" + URLEncoder.encode(csrf, StandardCharsets.UTF_8));
        // past the rule: whatever the page answers, it is not a refusal or a sign-in
        assertThat(replay.statusCode()).isNotIn(302, 401, 403);
    }

    @Test
    void signingOutEndsTheSession() throws Exception {
        Browser b = signedIn("operator", "operator-demo-password");
        String old = b.cookie("JSESSIONID");
        b.await("form#logout button").click();
        b.await("form#sign-in");
        assertThat(b.url()).startsWith(BASE + "/login");
        assertThat(b.all("#signed-in-user")).isEmpty();
        b.screenshot("console-signed-out");
        HttpResponse<String> again = get("/console", old, null);
        assertThat(again.statusCode()).isEqualTo(302);
        assertThat(again.headers().firstValue("Location").orElse("")).contains("/oauth2/authorization/");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'SIGN_OUT' and actor = 'user:operator'",
                Integer.class)).isPositive();
    }

    @Test
    void anIdleSessionReturnsToSignIn() throws Exception {
        Browser b = signedIn("viewer", "viewer-demo-password");
        String old = b.cookie("JSESSIONID");
        Thread.sleep((IDLE_SECONDS + 3) * 1000L);
        b.open(BASE + "/console");
        b.await("form#sign-in");
        assertThat(b.url()).startsWith(BASE + "/login");
        b.screenshot("console-session-expired");
        // an htmx request of the ended session is told where to go, not given a sign-in page to swap in
        HttpResponse<String> fragment = get("/console/fragments/interfaces", old, "true");
        assertThat(fragment.statusCode()).isEqualTo(401);
        assertThat(fragment.headers().firstValue("HX-Redirect").orElse("")).isEqualTo(BASE + "/oauth2/authorization/hub-console");
        assertThat(fragment.body()).isEmpty();
    }

    @Test
    void theConsoleSessionAndTheApiDoNotOpenEachOther() throws Exception {
        Browser b = signedIn("operator", "operator-demo-password");
        // a console cookie is no bearer token: the API still wants one
        HttpResponse<String> api = get("/api/messages", b.cookie("JSESSIONID"), null);
        assertThat(api.statusCode()).isEqualTo(401);
        // and a bearer token does not open the console
        String token = Tokens.sample(PORT, Tokens.ADMIN, "messages:read");
        HttpResponse<String> console = http.send(HttpRequest.newBuilder(URI.create(BASE + "/console"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(console.statusCode()).isEqualTo(302);
    }

    @Test
    void signInUsesPkceAndTheSessionCookieIsHttpOnlyAndSameSite() throws Exception {
        browser.driver().manage().deleteAllCookies();
        HttpResponse<String> start = http.send(HttpRequest.newBuilder(URI.create(BASE + "/oauth2/authorization/hub-console")).build(),
                HttpResponse.BodyHandlers.ofString());
        String setCookie = start.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).contains("JSESSIONID=").contains("HttpOnly").contains("SameSite=Lax").doesNotContain("Secure");
        // the sign-in it starts is an authorization code request with PKCE, at the issuer's name
        assertThat(start.headers().firstValue("Location").orElseThrow()).startsWith(BASE + "/oauth2/authorize?")
                .contains("response_type=code").contains("code_challenge=").contains("code_challenge_method=S256")
                .contains("scope=openid");
        // and the API answers without one
        HttpResponse<String> token = Tokens.request(BASE, Tokens.ADMIN, "admin-demo-secret", "messages:read");
        assertThat(token.statusCode()).isEqualTo(200);
        assertThat(token.headers().firstValue("Set-Cookie")).isEmpty();
    }

    @Test
    void theOpenApiDescriptionNeedsMessagesRead() throws Exception {
        String read = Tokens.sample(PORT, Tokens.ADMIN, "messages:read");
        String metrics = Tokens.sample(PORT, Tokens.ADMIN, "metrics:read");
        HttpResponse<String> docs = bearer("/v3/api-docs", read);
        assertThat(docs.statusCode()).isEqualTo(200);
        assertThat(docs.body()).contains("\"openapi\"").contains("/api/messages");
        assertThat(bearer("/v3/api-docs", metrics).statusCode()).isEqualTo(403);
        assertThat(bearer("/v3/api-docs", "not-a-token").statusCode()).isEqualTo(401);
        // Swagger UI is off by default
        assertThat(bearer("/swagger-ui/index.html", read).statusCode()).isEqualTo(404);
        // a signed-in person reads it with their session
        Browser b = signedIn("viewer", "viewer-demo-password");
        assertThat(get("/v3/api-docs", b.cookie("JSESSIONID"), null).body()).contains("\"openapi\"");
    }

    private HttpResponse<String> bearer(String path, String token) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(BASE + path)).header("Authorization", "Bearer " + token).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, String session, String hx) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(BASE + path)).header("Cookie", "JSESSIONID=" + session);
        if (hx != null) {
            b.header("HX-Request", hx);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String session, String form) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(BASE + path)).header("Cookie", "JSESSIONID=" + session)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private long lastAuditId() {
        Long id = jdbc.queryForObject("select max(id) from audit_event", Long.class);
        return id == null ? 0 : id;
    }
}
