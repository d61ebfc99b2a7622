package org.supplyhub.security;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Naming an external issuer (here by {@code issuer-uri}, found by OIDC discovery) makes the hub
 * trust that issuer's tokens and turns the embedded issuer off.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class ExternalIssuerTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static IndependentIssuer external;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.delivery.enabled", () -> "false");
        registry.add("spring.security.oauth2.resourceserver.jwt.issuer-uri", () -> externalIssuer().issuer);
    }

    static synchronized IndependentIssuer externalIssuer() {
        if (external == null) {
            external = IndependentIssuer.startDiscoverable("ingest:mercy-or", "messages:read");
        }
        return external;
    }

    @AfterAll
    static void stop() {
        if (external != null) {
            external.close();
        }
    }

    @LocalServerPort
    int port;

    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void tokensOfTheExternalIssuerOpenTheirScopesOnly() throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "EXT-" + System.nanoTime());
        assertThat(post("/hl7/mercy-or", externalIssuer().token("ingest:mercy-or"), er7).body()).contains("MSA|AA");
        assertThat(post("/hl7/lakeside-cath", externalIssuer().token("ingest:mercy-or"), er7).statusCode()).isEqualTo(403);
        assertThat(get("/api/messages", externalIssuer().token("messages:read")).statusCode()).isEqualTo(200);
    }

    @Test
    void theEmbeddedIssuerIsOff() throws Exception {
        HttpResponse<String> token = Tokens.request("http://127.0.0.1:" + port, Tokens.MERCY, "mercy-demo-secret",
                "ingest:mercy-or");
        assertThat(token.statusCode()).isEqualTo(401);
        assertThat(token.body()).doesNotContain("access_token");
        assertThat(get("/oauth2/jwks", null).statusCode()).isEqualTo(401);
    }

    private HttpResponse<String> post(String path, String token, String er7) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/hl7-v2")
                .POST(HttpRequest.BodyPublishers.ofString(er7)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
