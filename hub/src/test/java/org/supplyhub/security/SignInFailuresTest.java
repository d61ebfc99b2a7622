package org.supplyhub.security;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.CookieManager;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedded issuer's form login under password guessing, over real HTTP form posts: every failure is
 * audited with the user name tried and the source; after five, even the right password is refused for a
 * while, with the same generic page. And the console's pages carry no-referrer and no-store.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class SignInFailuresTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final Pattern CSRF = Pattern.compile("name=\"_csrf\"[^>]*value=\"([^\"]+)\"|value=\"([^\"]+)\"[^>]*name=\"_csrf\"");

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.config.watch", () -> "false");
        registry.add("hub.retention.schedule", () -> "-");
        registry.add("hub.delivery.enabled", () -> "false");
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcTemplate jdbc;

    final HttpClient http = HttpClient.newBuilder().cookieHandler(new CookieManager())
            .followRedirects(HttpClient.Redirect.NEVER).build();

    @Test
    void wrongPasswordsAreAuditedAndThenSignInIsHeldBack() throws Exception {
        for (int i = 0; i < SignInThrottle.FREE_FAILURES; i++) {
            HttpResponse<String> wrong = signIn("operator", "not-the-password-" + i);
            assertThat(wrong.statusCode()).isEqualTo(302);
            assertThat(wrong.headers().firstValue("Location").orElse("")).endsWith("/login?error");
        }
        List<Map<String, Object>> rows = jdbc.queryForList("select actor, target, outcome, source, detail from audit_event"
                + " where action = 'SIGN_IN_FAILED' order by id");
        assertThat(rows).hasSizeGreaterThanOrEqualTo(1);
        assertThat(rows.get(0).get("target")).isEqualTo("sign-in as operator");
        assertThat(rows.get(0).get("outcome")).isEqualTo("401");
        assertThat(rows.get(0).get("source")).isEqualTo("127.0.0.1");
        assertThat(rows.get(0).get("actor")).isEqualTo("anonymous@127.0.0.1");

        // held back: the right password gets the same answer, and the refusal is audited (folded per minute)
        HttpResponse<String> right = signIn("operator", "operator-demo-password");
        assertThat(right.headers().firstValue("Location").orElse("")).endsWith("/login?error");
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(URI.create(base() + "/login?error")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.body()).contains("The user name or password is not right.").doesNotContain("locked");
        // the source is held back whoever it signs in as: another person's right password, a fresh session
        HttpClient other = HttpClient.newBuilder().cookieHandler(new CookieManager())
                .followRedirects(HttpClient.Redirect.NEVER).build();
        assertThat(signIn(other, "viewer", "viewer-demo-password").headers().firstValue("Location").orElse(""))
                .endsWith("/login?error");
    }

    @Test
    void consolePagesAreNeitherCachedNorNamedInReferers() throws Exception {
        HttpResponse<String> console = http.send(HttpRequest.newBuilder(URI.create(base() + "/console/messages?patient=MRN448812"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(console.headers().firstValue("Referrer-Policy")).contains("no-referrer");
        assertThat(console.headers().firstValue("Cache-Control").orElse("")).contains("no-store");
    }

    HttpResponse<String> signIn(String user, String password) throws Exception {
        return signIn(http, user, password);
    }

    HttpResponse<String> signIn(HttpClient client, String user, String password) throws Exception {
        HttpResponse<String> form = client.send(HttpRequest.newBuilder(URI.create(base() + "/login")).build(),
                HttpResponse.BodyHandlers.ofString());
        Matcher csrf = CSRF.matcher(form.body());
        assertThat(csrf.find()).as(form.body()).isTrue();
        String token = csrf.group(1) != null ? csrf.group(1) : csrf.group(2);
        String body = "username=" + enc(user) + "&password=" + enc(password) + "&_csrf=" + enc(token);
        return client.send(HttpRequest.newBuilder(URI.create(base() + "/login"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }
}
