package org.supplyhub.console;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.SupplyHubApplication;
import org.supplyhub.support.Browser;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The console signing in at an external OpenID Connect issuer, found by discovery from {@code issuer-uri}
 * as Keycloak or Entra would be: here a second hub, started on its own port and host name, whose embedded
 * issuer knows the console as an ordinary client ({@code hub.security.clients.hub-console} with a
 * secret and redirect URIs) and signs in its own users. The hub under test has no issuer of its own.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class ConsoleExternalIssuerBrowserTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final TestInterfaces ISSUER_INTERFACES = TestInterfaces.copyOfShipped();
    static final int PORT = TestInterfaces.freePort();
    static final int ISSUER_PORT = TestInterfaces.freePort();
    static final String BASE = "http://localhost:" + PORT;
    /** Another host name than the console's, so the browser keeps the two session cookies apart. */
    static final String ISSUER = "http://127.0.0.1:" + ISSUER_PORT;
    static ConfigurableApplicationContext issuer;
    static Browser browser;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        startIssuer();
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.delivery.enabled", () -> "false");
        registry.add("server.port", () -> PORT);
        registry.add("spring.security.oauth2.resourceserver.jwt.issuer-uri", () -> ISSUER);
        registry.add("hub.console.client-id", () -> "hub-console");
        registry.add("hub.console.client-secret", () -> "ext-console-secret");
        registry.add("hub.console.roles-claim", () -> "roles");
    }

    static synchronized void startIssuer() {
        if (issuer != null) {
            return;
        }
        List<String> args = new ArrayList<>();
        TestDatabases.postgres().forEach((k, v) -> args.add("--" + k + "=" + v));
        ISSUER_INTERFACES.properties().forEach((k, v) -> args.add("--" + k + "=" + v));
        args.add("--hub.delivery.enabled=false");
        args.add("--hub.config.watch=false");
        args.add("--server.port=" + ISSUER_PORT);
        args.add("--hub.security.issuer=" + ISSUER);
        // the issuer hub's own console has another id: hub-console is the hub under test's client here
        args.add("--hub.console.client-id=issuer-console");
        args.add("--hub.security.clients.hub-console.secret={bcrypt}$2a$10$pxB5M7XOByALOe5auOxLMelkx3wDXCIiQLH6oN8.9lyaMOAv6BwZ.");
        args.add("--hub.security.clients.hub-console.redirect-uris=" + BASE + "/login/oauth2/code/hub-console");
        args.add("--hub.security.clients.hub-console.post-logout-redirect-uris=" + BASE + "/console");
        args.add("--spring.main.banner-mode=off");
        issuer = new SpringApplicationBuilder(SupplyHubApplication.class).run(args.toArray(String[]::new));
    }

    @BeforeAll
    static void startBrowser() {
        browser = Browser.start();
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.close();
        }
        if (issuer != null) {
            issuer.close();
        }
    }

    private Browser signedIn(String user, String password) {
        browser.driver().manage().deleteAllCookies();
        browser.open(BASE + "/console");
        assertThat(browser.url()).startsWith(ISSUER + "/login");
        browser.signIn(user, password);
        browser.await("#signed-in-user");
        assertThat(browser.url()).startsWith(BASE + "/console");
        return browser;
    }

    @Test
    void aViewerSignsInAtTheExternalIssuer() {
        Browser b = signedIn("viewer", "viewer-demo-password");
        assertThat(b.text("#signed-in-user")).isEqualTo("Val Viewer");
        assertThat(b.text("#signed-in-role")).isEqualTo("viewer");
        assertThat(b.all(".action")).isEmpty();
        b.screenshot("console-external-issuer-viewer");
    }

    @Test
    void anOperatorSignsInAndOutAtTheExternalIssuer() throws Exception {
        Browser b = signedIn("operator", "operator-demo-password");
        assertThat(b.text("#signed-in-role")).isEqualTo("operator");
        assertThat(b.all(".action")).isNotEmpty();
        String old = b.cookie("JSESSIONID");
        b.await("form#logout button").click();
        // signed out at the issuer too: back at its sign-in page, not silently signed in again
        b.await("form#sign-in");
        assertThat(b.url()).startsWith(ISSUER + "/login");
        HttpResponse<String> again = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(BASE + "/console"))
                .header("Cookie", "JSESSIONID=" + old).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(again.statusCode()).isEqualTo(302);
    }
}
