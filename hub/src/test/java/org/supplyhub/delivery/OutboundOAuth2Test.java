package org.supplyhub.delivery;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtException;
import org.springframework.security.oauth2.jwt.JwtValidators;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.supplyhub.delivery.FileDeliveryTest.await;

/**
 * Outbound OAuth2: destinations carry client_credentials tokens from their own registrations (here
 * issued by the hub's embedded issuer over real HTTP) to an inventory receiver that verifies each
 * token's signature, audience and scope. Right scope → delivered with one cached token; wrong scope
 * → dead at once with the reason; a registration with a bad secret → dead, not retried forever.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.DEFINED_PORT)
@DirtiesContext
class OutboundOAuth2Test {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final int HUB_PORT = TestInterfaces.freePort();
    static final int RECEIVER_PORT = TestInterfaces.freePort();
    static final List<String> acceptedTokens = new CopyOnWriteArrayList<>();
    static final List<Integer> refusals = new CopyOnWriteArrayList<>();
    static HttpServer receiver;

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    IntakeService intake;
    @Autowired
    RunningConfig catalog;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        startReceiver();
        Files.writeString(INTERFACES.routesDir.resolve("oauth.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: oauth-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: "stock-writer, stock-reader, stock-bad-secret" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: stock-writer }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%1$d/stock" }
                      - { name: oauth2, value: inventory-writer }
                      - { name: initialBackoff, value: 50ms }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: stock-reader }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%1$d/stock" }
                      - { name: oauth2, value: inventory-reader }
                      - { name: initialBackoff, value: 50ms }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: stock-bad-secret }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%1$d/stock" }
                      - { name: oauth2, value: inventory-bad-secret }
                      - { name: initialBackoff, value: 50ms }
                """.formatted(RECEIVER_PORT));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("server.port", () -> HUB_PORT);
        String[][] clients = {
                {"hub-admin", "{bcrypt}$2a$10$yq5eIJvZnCRaAsSicQ3bKuQjzvWpc7f.mN/SiURhheBB5q8OcwMhq", "messages:read"},
                {"inventory-writer", "{bcrypt}$2a$10$CKDuwxocSGrAFlfK3Ao52eiP3O450JEHsZ9QZXiUxzhl2lFKCMzCO", "stock:write"},
                {"inventory-reader", "{bcrypt}$2a$10$b2r3blQGryRkqoaGDDh4n.7/aTaJJUgkmS6pNn4esJo5mAy2eaWku", "stock:read"},
        };
        for (int i = 0; i < clients.length; i++) {
            String[] c = clients[i];
            registry.add("hub.security.clients[" + i + "].id", () -> c[0]);
            registry.add("hub.security.clients[" + i + "].secret", () -> c[1]);
            registry.add("hub.security.clients[" + i + "].scopes", () -> c[2]);
            registry.add("hub.security.clients[" + i + "].audience", () -> "inventory-api");
        }
        Map<String, String[]> registrations = Map.of(
                "inventory-writer", new String[] {"inventory-writer", "writer-secret", "stock:write"},
                "inventory-reader", new String[] {"inventory-reader", "reader-secret", "stock:read"},
                "inventory-bad-secret", new String[] {"inventory-writer", "not-the-secret", "stock:write"});
        registrations.forEach((id, r) -> {
            String p = "spring.security.oauth2.client.registration." + id + ".";
            registry.add(p + "client-id", () -> r[0]);
            registry.add(p + "client-secret", () -> r[1]);
            registry.add(p + "scope", () -> r[2]);
            registry.add(p + "authorization-grant-type", () -> "client_credentials");
            registry.add(p + "provider", () -> "hub-issuer");
        });
        registry.add("spring.security.oauth2.client.provider.hub-issuer.token-uri",
                () -> "http://127.0.0.1:" + HUB_PORT + "/oauth2/token");
    }

    /** An inventory API that takes a stock movement only with a valid token carrying stock:write. */
    static void startReceiver() throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", RECEIVER_PORT), 0);
        JwtDecoder[] decoder = new JwtDecoder[1];
        receiver.createContext("/stock", exchange -> {
            exchange.getRequestBody().readAllBytes();
            if (decoder[0] == null) {
                NimbusJwtDecoder d = NimbusJwtDecoder.withJwkSetUri("http://127.0.0.1:" + HUB_PORT + "/oauth2/jwks").build();
                d.setJwtValidator(new DelegatingOAuth2TokenValidator<>(JwtValidators.createDefaultWithIssuer("http://localhost:8080"),
                        new JwtClaimValidator<Collection<String>>("aud", aud -> aud != null && aud.contains("inventory-api"))));
                decoder[0] = d;
            }
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            int status;
            try {
                Jwt jwt = decoder[0].decode(auth == null ? "" : auth.replaceFirst("^Bearer ", ""));
                status = jwt.getClaimAsStringList("scope").contains("stock:write") ? 201 : 403;
                if (status == 201) {
                    acceptedTokens.add(jwt.getTokenValue());
                }
            } catch (JwtException e) {
                status = 401;
            }
            if (status != 201) {
                refusals.add(status);
                exchange.getResponseHeaders().add("WWW-Authenticate", status == 403
                        ? "Bearer error=\"insufficient_scope\", scope=\"stock:write\"" : "Bearer error=\"invalid_token\"");
            }
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        receiver.start();
    }

    @AfterAll
    static void stop() {
        receiver.stop(0);
    }

    @Test
    void rightScopeIsDeliveredWithOneCachedTokenWrongScopeAndBadSecretAreDeadWithTheReason() throws Exception {
        int messages = 4;
        for (int i = 0; i < messages; i++) {
            String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "OA-" + i);
            assertThat(intake.receive(catalog.get("oauth-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test").ackCode())
                    .isEqualTo("AA");
        }
        await(() -> count("stock-writer", "DELIVERED") == messages
                && count("stock-reader", "DEAD") == messages && count("stock-bad-secret", "DEAD") == messages);

        assertThat(acceptedTokens).hasSize(messages);
        assertThat(acceptedTokens.stream().distinct().count()).as("one token, cached until it expires").isEqualTo(1);

        // wrong scope: the receiver said 403 once per row, and each row died on its first attempt
        assertThat(refusals).containsOnly(403).hasSize(messages);
        List<Map<String, Object>> reader = jdbc.queryForList(
                "select attempts, last_error from outbox where destination = 'stock-reader'");
        assertThat(reader).allSatisfy(row -> {
            assertThat(row.get("attempts")).isEqualTo(1);
            assertThat((String) row.get("last_error")).contains("403").contains("scope").contains("inventory-reader");
        });
        // bad secret: the issuer refused the registration; the receiver never saw those rows
        List<Map<String, Object>> badSecret = jdbc.queryForList(
                "select attempts, last_error from outbox where destination = 'stock-bad-secret'");
        assertThat(badSecret).allSatisfy(row -> {
            assertThat(row.get("attempts")).isEqualTo(1);
            assertThat((String) row.get("last_error")).contains("401").contains("secret refused")
                    .contains("inventory-bad-secret");
        });
    }

    private int count(String destination, String status) {
        return jdbc.queryForObject("select count(*) from outbox where destination = ? and status = ?", Integer.class,
                destination, status);
    }
}
