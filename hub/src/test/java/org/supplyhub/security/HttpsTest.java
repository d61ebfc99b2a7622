package org.supplyhub.security;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.TestCertificates;
import org.supplyhub.support.TestCertificates.Issued;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import javax.net.ssl.SSLSession;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The HTTP API over TLS from an SSL bundle, with {@code require-tls} on as in the prod profile: a
 * real TLS client gets its token and calls the API; a clear-text client gets nothing.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class HttpsTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static Issued ca;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        Path dir = Files.createTempDirectory("https");
        ca = TestCertificates.ca("CN=Hospital Web CA,O=Test");
        Path keyStore = TestCertificates.keyStore(TestCertificates.valid(ca, "CN=localhost,O=Supply Hub", true),
                dir.resolve("server.p12"));
        registry.add("spring.ssl.bundle.jks.web.keystore.location", () -> "file:" + keyStore);
        registry.add("spring.ssl.bundle.jks.web.keystore.password", () -> "changeit");
        registry.add("spring.ssl.bundle.jks.web.keystore.type", () -> "PKCS12");
        registry.add("server.ssl.bundle", () -> "web");
        registry.add("hub.security.require-tls", () -> "true");
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.delivery.enabled", () -> "false");
    }

    @LocalServerPort
    int port;

    @Test
    void theApiIsServedOverTlsOnly() throws Exception {
        HttpClient tls = HttpClient.newBuilder().sslContext(TestCertificates.clientContext(null, ca.certificate())).build();
        HttpResponse<String> token = tls.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/oauth2/token"))
                .header("Authorization", "Basic " + java.util.Base64.getEncoder().encodeToString("hub-admin:admin-demo-secret".getBytes()))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials&scope=messages:read")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(token.statusCode()).isEqualTo(200);
        SSLSession session = token.sslSession().orElseThrow();
        assertThat(session.getProtocol()).isIn("TLSv1.3", "TLSv1.2");
        String accessToken = new com.fasterxml.jackson.databind.ObjectMapper().readTree(token.body()).path("access_token").asText();
        HttpResponse<String> messages = tls.send(HttpRequest.newBuilder(URI.create("https://localhost:" + port + "/api/messages"))
                .header("Authorization", "Bearer " + accessToken).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(messages.statusCode()).isEqualTo(200);

        Throwable clear = catchThrowable(() -> {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://localhost:" + port + "/actuator/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(400); // Tomcat: "plain HTTP request sent to HTTPS port"
        });
        assertThat(clear == null || clear instanceof IOException).isTrue();
    }
}
