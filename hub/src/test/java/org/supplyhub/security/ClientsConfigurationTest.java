package org.supplyhub.security;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.supplyhub.mapping.ConfigurationException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@code hub.security.clients} as Spring Boot loads it from application.yml and a further config file
 * ({@code spring.config.additional-location}): the file adds or changes a client, it does not replace
 * the others; the sample clients are not loaded in the prod profile.
 */
class ClientsConfigurationTest {

    /** A fresh hash each time: the issuer refuses two clients with the same hash. */
    static String hash() {
        return PasswordEncoderFactories.createDelegatingPasswordEncoder().encode("a-secret");
    }

    @TempDir
    Path tmp;

    @Configuration
    @EnableConfigurationProperties(SecurityProperties.class)
    static class PropertiesOnly { }

    static final EmbeddedIssuerConfiguration.ConsolePairing CONSOLE =
            new EmbeddedIssuerConfiguration.ConsolePairing("hub-console", "per-run-secret", "http://localhost:8080");

    SecurityProperties properties(String extraYaml, String... profiles) throws IOException {
        Path extra = tmp.resolve("extra.yml");
        Files.writeString(extra, extraYaml);
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(PropertiesOnly.class)
                .web(WebApplicationType.NONE).profiles(profiles)
                .run("--spring.config.additional-location=file:" + extra, "--spring.main.banner-mode=off")) {
            return context.getBean(SecurityProperties.class);
        }
    }

    RegisteredClientRepository clients(String extraYaml, String... profiles) throws IOException {
        return new EmbeddedIssuerConfiguration().registeredClients(properties(extraYaml, profiles), CONSOLE);
    }

    IssuerUsers users(String extraYaml, String... profiles) throws IOException {
        return new EmbeddedIssuerConfiguration().issuerUsers(properties(extraYaml, profiles));
    }

    @Test
    void theSampleUsersHaveTheirRolesAndTheProdProfileHasNone() throws IOException {
        IssuerUsers samples = users("");
        assertThat(samples.find("viewer").orElseThrow().roles()).containsExactly("viewer");
        assertThat(samples.find("operator").orElseThrow().roles()).containsExactly("operator");
        assertThat(samples.find("admin").orElseThrow().displayName()).isEqualTo("Ada Admin");
        IssuerUsers prod = users("hub.security.require-tls: false", "prod");
        assertThat(prod.find("viewer")).isEmpty();
        assertThat(prod.find("operator")).isEmpty();
    }

    @Test
    void aPlainTextPasswordOrAnUnknownRoleIsRefused() {
        assertThatThrownBy(() -> users("""
                hub.security.users.night-nurse: { password: "secret", roles: [ viewer ] }
                """)).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("hub.security.users[night-nurse]").hasMessageContaining("plain text passwords are refused");
        assertThatThrownBy(() -> users("""
                hub.security.users.night-nurse: { password: "%s", roles: [ superuser ] }
                """.formatted(hash()))).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'superuser' is not a role");
        assertThatThrownBy(() -> users("""
                hub.security.users.night-nurse: { password: "%s" }
                """.formatted(hash()))).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("give the person a role");
    }

    @Test
    void theConsoleIsAPkceClientOfTheIssuerAndItsIdIsReserved() throws IOException {
        RegisteredClient console = clients("").findByClientId("hub-console");
        assertThat(console.getAuthorizationGrantTypes()).containsExactly(
                org.springframework.security.oauth2.core.AuthorizationGrantType.AUTHORIZATION_CODE);
        assertThat(console.getClientSettings().isRequireProofKey()).isTrue();
        assertThat(console.getRedirectUris()).containsExactly("http://localhost:8080/login/oauth2/code/hub-console");
        assertThat(clients("").findByClientId("hub-admin").getScopes()).contains("audit:read");
        assertThatThrownBy(() -> clients("""
                hub.security.clients.hub-console: { secret: "%s", scopes: [ "messages:read" ] }
                """.formatted(hash()))).isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("'hub-console' is the console's own client");
    }

    @Test
    void aClientWithRedirectUrisSignsPeopleIn() throws IOException {
        RegisteredClient grafana = clients("""
                hub.security.clients.grafana:
                  secret: "%s"
                  redirect-uris: [ "https://grafana.example/login/generic_oauth" ]
                """.formatted(hash())).findByClientId("grafana");
        assertThat(grafana.getAuthorizationGrantTypes()).containsExactly(
                org.springframework.security.oauth2.core.AuthorizationGrantType.AUTHORIZATION_CODE);
        assertThat(grafana.getScopes()).contains("openid", "profile");
        assertThat(grafana.getClientSettings().isRequireProofKey()).isTrue();
    }

    @Test
    void aClientInAFurtherFileIsAddedToTheSampleClients() throws IOException {
        RegisteredClientRepository repository = clients("""
                hub:
                  security:
                    clients:
                      inventory-scanner:
                        secret: "%s"
                        scopes: [ "ingest:mercy-or" ]
                """.formatted(hash()));
        RegisteredClient added = repository.findByClientId("inventory-scanner");
        assertThat(added).isNotNull();
        assertThat(added.getScopes()).containsExactly("ingest:mercy-or");
        assertThat(repository.findByClientId("mercy-ormgr")).isNotNull();
        assertThat(repository.findByClientId("lakeside-cathlab")).isNotNull();
        assertThat(repository.findByClientId("hub-admin")).isNotNull();
    }

    @Test
    void aFurtherFileChangesOneSampleClientAndLeavesTheOthers() throws IOException {
        String other = hash();
        RegisteredClientRepository repository = clients("""
                hub.security.clients.mercy-ormgr.secret: "%s"
                """.formatted(other));
        assertThat(repository.findByClientId("mercy-ormgr").getClientSecret()).isEqualTo(other);
        assertThat(repository.findByClientId("mercy-ormgr").getScopes()).containsExactly("ingest:mercy-or");
        assertThat(repository.findByClientId("hub-admin")).isNotNull();
    }

    @Test
    void theListFormStillBindsAndAddsOrReplacesByClientId() throws IOException {
        String admin = hash();
        RegisteredClientRepository repository = clients("""
                hub:
                  security:
                    clients:
                      - id: billing-bridge
                        secret: "%s"
                        scopes: [ "messages:read" ]
                      - id: hub-admin
                        secret: "%s"
                        scopes: [ "messages:read" ]
                """.formatted(hash(), admin));
        assertThat(repository.findByClientId("billing-bridge")).isNotNull();
        assertThat(repository.findByClientId("mercy-ormgr")).isNotNull();
        assertThat(repository.findByClientId("hub-admin").getClientSecret()).isEqualTo(admin);
        assertThat(repository.findByClientId("hub-admin").getScopes()).containsExactly("messages:read");
    }

    @Test
    void theProdProfileLoadsNoSampleClients() throws IOException {
        RegisteredClientRepository repository = clients("""
                hub.security.require-tls: false
                hub.security.clients.inventory-scanner.secret: "%s"
                """.formatted(hash()), "prod");
        assertThat(repository.findByClientId("inventory-scanner")).isNotNull();
        assertThat(repository.findByClientId("mercy-ormgr")).isNull();
        assertThat(repository.findByClientId("hub-admin")).isNull();
    }

    @Test
    void oneClientIdNamedTwiceIsRefused() {
        assertThatThrownBy(() -> clients("""
                hub:
                  security:
                    clients:
                      - id: scanner
                        secret: "%s"
                      - id: scanner
                        secret: "%s"
                """.formatted(hash(), hash())))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("client id 'scanner' is given twice");
    }
}
