package org.supplyhub.security;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import org.supplyhub.support.Tokens;

import java.net.http.HttpResponse;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedded issuer's token endpoint against guessing: failures audited, throttled per client
 * (5 here) and per address (12 here) with a 429 that says when to come back, and an unknown client
 * refused as slowly as a known one.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class TokenEndpointDefencesTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.delivery.enabled", () -> "false");
        registry.add("hub.security.token-endpoint.max-failures-per-client", () -> "5");
        registry.add("hub.security.token-endpoint.max-failures-per-address", () -> "40");
        registry.add("hub.security.token-endpoint.window", () -> "10m");
    }

    @LocalServerPort
    int port;

    @Autowired
    JdbcTemplate jdbc;

    @Test
    void guessingASecretIsAuditedThenThrottledEvenForTheRightSecret() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertThat(Tokens.request(base(), Tokens.LAKESIDE, "guess-" + i, "ingest:lakeside-cath").statusCode()).isEqualTo(401);
        }
        HttpResponse<String> throttled = Tokens.request(base(), Tokens.LAKESIDE, "lakeside-demo-secret", "ingest:lakeside-cath");
        assertThat(throttled.statusCode()).isEqualTo(429);
        assertThat(throttled.headers().firstValue("Content-Type").orElse("")).contains("application/problem+json");
        long retryAfter = Long.parseLong(throttled.headers().firstValue("Retry-After").orElseThrow());
        assertThat(retryAfter).isBetween(1L, 600L);
        assertThat(new ObjectMapper().readTree(throttled.body()).path("status").asInt()).isEqualTo(429);
        assertThat(throttled.body()).doesNotContain("access_token");
        // nor through the same endpoint under a percent-encoded path, which the issuer serves too
        HttpResponse<String> encoded = Tokens.requestAt(base() + "/oauth2/%74oken", Tokens.LAKESIDE, "lakeside-demo-secret",
                "ingest:lakeside-cath");
        assertThat(encoded.statusCode()).isIn(429, 400, 401, 404);
        assertThat(encoded.body()).doesNotContain("access_token");
        // another client from the same address is not locked out by this one's failures
        assertThat(Tokens.request(base(), Tokens.MERCY, "mercy-demo-secret", "ingest:mercy-or").statusCode()).isEqualTo(200);

        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'TOKEN_REFUSED' and outcome = '401'"
                + " and detail like ?", Integer.class, "%" + Tokens.LAKESIDE + "%")).isEqualTo(5);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'TOKEN_REFUSED' and outcome = '429'",
                Integer.class)).isGreaterThanOrEqualTo(1);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where detail like '%guess-%'", Integer.class)).isZero();
    }

    @Test
    void anUnknownClientIsRefusedAsSlowlyAsAKnownOne() {
        // warm-up, then medians of alternating attempts (each known attempt counts against hub-admin's
        // limit of 5, so 4 of them; the address limit is 40)
        Tokens.request(base(), "warm-up-unknown", "x", null);
        long[] known = new long[4];
        long[] unknown = new long[4];
        for (int i = 0; i < 4; i++) {
            known[i] = timed(Tokens.ADMIN);
            unknown[i] = timed("no-such-client-" + i);
        }
        Arrays.sort(known);
        Arrays.sort(unknown);
        long k = (known[1] + known[2]) / 2;
        long u = (unknown[1] + unknown[2]) / 2;
        System.out.printf("Token endpoint refusal: known client %d ms, unknown client %d ms (medians)%n", k / 1_000_000, u / 1_000_000);
        assertThat((double) u).isBetween(k * 0.5, k * 2.0);
    }

    private long timed(String clientId) {
        long start = System.nanoTime();
        assertThat(Tokens.request(base(), clientId, "wrong-secret", null).statusCode()).isEqualTo(401);
        return System.nanoTime() - start;
    }

    private String base() {
        return "http://127.0.0.1:" + port;
    }
}
