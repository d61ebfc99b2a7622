package org.supplyhub.security;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.ssl.pem.PemContent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.server.authorization.OAuth2TokenType;
import org.springframework.security.oauth2.server.authorization.client.InMemoryRegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.oauth2.server.authorization.config.annotation.web.configurers.OAuth2AuthorizationServerConfigurer;
import org.springframework.security.oauth2.server.authorization.settings.AuthorizationServerSettings;
import org.springframework.security.oauth2.server.authorization.settings.ClientSettings;
import org.springframework.security.oauth2.server.authorization.settings.OAuth2TokenFormat;
import org.springframework.security.oauth2.server.authorization.settings.TokenSettings;
import org.springframework.security.oauth2.server.authorization.token.JwtEncodingContext;
import org.springframework.security.oauth2.server.authorization.token.OAuth2TokenCustomizer;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.context.SecurityContextHolderFilter;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.AndRequestMatcher;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.supplyhub.journal.AuditLog;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Ticker;
import org.supplyhub.mapping.ConfigurationException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.RSAPublicKeySpec;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The embedded OAuth2 issuer (Spring Authorization Server): client_credentials at {@code /oauth2/token},
 * keys at {@code /oauth2/jwks}, clients from {@code hub.security.clients}. Only in the default mode:
 * naming an external issuer ({@code issuer-uri} or {@code jwk-set-uri}) turns all of it off.
 */
@Configuration
@ConditionalOnExpression("'${spring.security.oauth2.resourceserver.jwt.issuer-uri:}' == ''"
        + " and '${spring.security.oauth2.resourceserver.jwt.jwk-set-uri:}' == ''")
public class EmbeddedIssuerConfiguration {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedIssuerConfiguration.class);
    private static final String AUDIENCE_SETTING = "supply-hub.audience";
    private static final Pattern HASHED = Pattern.compile("^\\{(bcrypt|argon2@SpringSecurity_v5_8|argon2|pbkdf2@SpringSecurity_v5_8|pbkdf2|scrypt@SpringSecurity_v5_8|scrypt)}.+");
    private static final Pattern SCOPE = Pattern.compile("[\\x21\\x23-\\x5B\\x5D-\\x7E]+");

    /** The key tokens are signed with, and the issuer they name. */
    public record SigningKey(KeyPair keyPair, String keyId, String issuer) { }

    @Bean
    SigningKey embeddedSigningKey(SecurityProperties security) throws IOException, GeneralSecurityException {
        String issuer = security.issuer() == null || security.issuer().isBlank() ? "http://localhost:8080" : security.issuer();
        if (security.signingKey() != null) {
            PrivateKey key = PemContent.load(security.signingKey().getInputStream()).getPrivateKey();
            if (!(key instanceof RSAPrivateCrtKey rsa)) {
                throw new ConfigurationException("hub.security.signing-key must be an RSA private key (PKCS#8 PEM)");
            }
            RSAPublicKey publicKey = (RSAPublicKey) KeyFactory.getInstance("RSA")
                    .generatePublic(new RSAPublicKeySpec(rsa.getModulus(), rsa.getPublicExponent()));
            KeyPair pair = new KeyPair(publicKey, rsa);
            return new SigningKey(pair, thumbprint(pair), issuer);
        }
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair pair = generator.generateKeyPair();
        log.warn("Embedded issuer: no hub.security.signing-key, signing with a key made for this run;"
                + " tokens end with the process and other nodes will not accept them");
        return new SigningKey(pair, thumbprint(pair), issuer);
    }

    @Bean
    JWKSource<SecurityContext> jwkSource(SigningKey key) {
        RSAKey rsa = new RSAKey.Builder((RSAPublicKey) key.keyPair().getPublic())
                .privateKey(key.keyPair().getPrivate()).keyID(key.keyId()).build();
        return new ImmutableJWKSet<>(new JWKSet(rsa));
    }

    @Bean
    AuthorizationServerSettings authorizationServerSettings(SigningKey key) {
        return AuthorizationServerSettings.builder().issuer(key.issuer()).build();
    }

    @Bean
    RegisteredClientRepository registeredClients(SecurityProperties security) {
        if (security.clients().isEmpty()) {
            throw new ConfigurationException("the embedded issuer has no clients: list them under hub.security.clients,"
                    + " or name an external issuer with spring.security.oauth2.resourceserver.jwt.issuer-uri");
        }
        // keyed by id; an entry that names its id (the list form, clients[0].id, as older config files
        // and overriding files have it) replaces the entry listed under that key
        java.util.Map<String, SecurityProperties.Client> byId = new java.util.LinkedHashMap<>();
        java.util.Set<String> named = new java.util.HashSet<>();
        for (java.util.Map.Entry<String, SecurityProperties.Client> entry : security.clients().entrySet()) {
            SecurityProperties.Client client = entry.getValue().identifiedBy(entry.getKey());
            boolean namesItsId = entry.getValue().id() != null && !entry.getValue().id().isBlank();
            if (namesItsId && !named.add(client.id())) {
                throw new ConfigurationException("hub.security.clients: client id '" + client.id() + "' is given twice");
            }
            if (namesItsId || !named.contains(client.id())) {
                byId.put(client.id(), client);
            }
        }
        List<RegisteredClient> clients = byId.values().stream().map(c -> registered(c, security)).toList();
        return new InMemoryRegisteredClientRepository(clients);
    }

    private static RegisteredClient registered(SecurityProperties.Client client, SecurityProperties security) {
        String where = "hub.security.clients[" + client.id() + "]: ";
        if (client.id() == null || client.id().isBlank()) {
            throw new ConfigurationException("hub.security.clients: every client needs an id");
        }
        if (client.secret() == null || !HASHED.matcher(client.secret()).matches()) {
            throw new ConfigurationException(where + "the secret must be hashed with its prefix, e.g. {bcrypt}$2a$10$…"
                    + " (plain text secrets are refused)");
        }
        for (String scope : client.scopes()) {
            if (!SCOPE.matcher(scope).matches()) {
                throw new ConfigurationException(where + "scope '" + scope + "' has characters a scope cannot have");
            }
        }
        return RegisteredClient.withId(client.id())
                .clientId(client.id())
                .clientSecret(client.secret())
                .clientAuthenticationMethods(m -> m.addAll(Set.of(ClientAuthenticationMethod.CLIENT_SECRET_BASIC,
                        ClientAuthenticationMethod.CLIENT_SECRET_POST)))
                .authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS)
                .scopes(s -> s.addAll(client.scopes()))
                .tokenSettings(TokenSettings.builder().accessTokenFormat(OAuth2TokenFormat.SELF_CONTAINED)
                        .accessTokenTimeToLive(client.tokenTtl()).build())
                .clientSettings(ClientSettings.builder()
                        .setting(AUDIENCE_SETTING, client.audience() != null ? client.audience() : security.audience())
                        .build())
                .build();
    }

    /** Access tokens name the API they are for (the hub's audience unless the client says otherwise). */
    @Bean
    OAuth2TokenCustomizer<JwtEncodingContext> audienceClaim() {
        return context -> {
            if (OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
                String audience = context.getRegisteredClient().getClientSettings().getSetting(AUDIENCE_SETTING);
                context.getClaims().claim(JwtClaimNames.AUD, List.of(audience));
            }
        };
    }

    @Bean
    @Order(1)
    SecurityFilterChain issuerEndpoints(HttpSecurity http, ProblemResponses problems, RegisteredClientRepository clients,
                                        SecurityProperties security, AuditLog audit, ObjectMapper json) throws Exception {
        OAuth2AuthorizationServerConfigurer issuer = OAuth2AuthorizationServerConfigurer.authorizationServer();
        // only what client_credentials needs: the authorization, device and PAR endpoints (for users
        // who log in, which the hub has none of) are left to the API chain, which refuses them
        PathPatternRequestMatcher.Builder path = PathPatternRequestMatcher.withDefaults();
        RequestMatcher served = new OrRequestMatcher(path.matcher("/oauth2/token"), path.matcher("/oauth2/jwks"),
                path.matcher("/oauth2/introspect"), path.matcher("/oauth2/revoke"),
                path.matcher("/.well-known/oauth-authorization-server"), path.matcher("/.well-known/oauth-authorization-server/**"));
        http.securityMatcher(new AndRequestMatcher(issuer.getEndpointsMatcher(), served))
                .with(issuer, server -> { })
                .addFilterBefore(new TokenEndpointGuard(clients, audit, json, security.tokenEndpoint(), Ticker.systemTicker()),
                        SecurityContextHolderFilter.class)
                .authorizeHttpRequests(requests -> requests.anyRequest().authenticated())
                .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .csrf(csrf -> csrf.ignoringRequestMatchers(issuer.getEndpointsMatcher()))
                .exceptionHandling(errors -> errors.authenticationEntryPoint(problems.unauthorized()));
        return http.build();
    }

    private static String thumbprint(KeyPair pair) {
        try {
            return new RSAKey.Builder((RSAPublicKey) pair.getPublic()).build().computeThumbprint().toString();
        } catch (com.nimbusds.jose.JOSEException e) {
            return new String(java.util.Base64.getUrlEncoder().encode(pair.getPublic().getEncoded()), StandardCharsets.US_ASCII)
                    .substring(0, 16);
        }
    }
}
