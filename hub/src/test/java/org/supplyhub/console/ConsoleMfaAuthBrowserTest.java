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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With {@code hub.console.require-mfa}, a sign-in whose {@code amr}/{@code acr} shows no second factor
 * gets no session: the embedded issuer signs in with a password only ({@code amr: [pwd]}), so even a
 * right password is refused, visibly and audited.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class ConsoleMfaAuthBrowserTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final int PORT = TestInterfaces.freePort();
    static final String BASE = "http://localhost:" + PORT;
    static Browser browser;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.delivery.enabled", () -> "false");
        registry.add("server.port", () -> PORT);
        registry.add("hub.security.issuer", () -> BASE);
        registry.add("hub.console.require-mfa", () -> "true");
    }

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

    @Test
    void aPasswordOnlySignInIsRefusedWhenMfaIsRequired() {
        browser.open(BASE + "/console").signIn("operator", "operator-demo-password");
        assertThat(browser.text("#problem-title")).isEqualTo("Sign-in refused");
        assertThat(browser.text("#problem-detail")).contains("second factor");
        assertThat(browser.all("#signed-in-user")).isEmpty();
        browser.screenshot("console-mfa-required");
        // no console session came of it: asking again is refused again
        browser.open(BASE + "/console");
        assertThat(browser.text("#problem-title")).isEqualTo("Sign-in refused");
        assertThat(browser.all("#signed-in-user")).isEmpty();
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'ACCESS_DENIED' and actor = 'user:operator'"
                + " and detail like '%second factor%'", Integer.class)).isGreaterThanOrEqualTo(1);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'SIGN_IN'", Integer.class)).isZero();
    }
}
