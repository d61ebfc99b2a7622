package org.supplyhub.security;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.proc.SecurityContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ssl.pem.PemContent;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.core.oidc.OidcScopes;
import org.springframework.security.oauth2.core.oidc.StandardClaimNames;
import org.springframework.security.oauth2.core.oidc.endpoint.OidcParameterNames;
import org.springframework.security.authentication.dao.DaoAuthenticationProvider;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.springframework.security.web.authentication.LoginUrlAuthenticationEntryPoint;
import org.springframework.security.web.util.matcher.AnyRequestMatcher;
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
 * keys at {@code /oauth2/jwks}, clients from {@code hub.security.clients}; and for people, OpenID Connect
 * (authorization code with PKCE, id token, userinfo, RP-initiated logout) with a form login for the users
 * of {@code hub.security.users}. The console is its own client, paired in memory ({@link ConsolePairing}).
 * Only in the default mode: naming an external issuer ({@code issuer-uri} or {@code jwk-set-uri}) turns
 * all of it off.
 */
@Configuration
@EmbeddedIssuerMode
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

    /**
     * The console as a client of this issuer: a confidential client with PKCE whose secret is made per
     * run and never leaves the process (the console and the issuer are the same process, so the code
     * exchange goes to this node).
     */
    public record ConsolePairing(String clientId, String secret, String issuer) {
        public String redirectUri() {
            return issuer + "/login/oauth2/code/" + clientId;
        }

        public String postLogoutRedirectUri() {
            return issuer + "/console";
        }
    }

    @Bean
    ConsolePairing consolePairing(SigningKey key, ConsoleProperties console) {
        byte[] secret = new byte[32];
        new java.security.SecureRandom().nextBytes(secret);
        return new ConsolePairing(console.clientId(), java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(secret),
                key.issuer());
    }

    /** The people of {@code hub.security.users}, checked at start like the clients. */
    @Bean
    IssuerUsers issuerUsers(SecurityProperties security) {
        return IssuerUsers.of(security.users(), HASHED);
    }

    @Bean
    RegisteredClientRepository registeredClients(SecurityProperties security, ConsolePairing console) {
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
        if (byId.containsKey(console.clientId())) {
            throw new ConfigurationException("hub.security.clients: '" + console.clientId() + "' is the console's own"
                    + " client of this issuer, set up by the hub; give the other client another id");
        }
        List<RegisteredClient> clients = new java.util.ArrayList<>(byId.values().stream().map(c -> registered(c, security)).toList());
        clients.add(RegisteredClient.withId(console.clientId()).clientId(console.clientId())
                .clientSecret("{noop}" + console.secret())
                .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
                .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
                .redirectUri(console.redirectUri())
                .postLogoutRedirectUri(console.postLogoutRedirectUri())
                .scopes(s -> s.addAll(Set.of(OidcScopes.OPENID, OidcScopes.PROFILE)))
                .clientSettings(ClientSettings.builder().requireProofKey(true).requireAuthorizationConsent(false)
                        .setting(AUDIENCE_SETTING, security.audience()).build())
                .tokenSettings(TokenSettings.builder().accessTokenFormat(OAuth2TokenFormat.SELF_CONTAINED)
                        .accessTokenTimeToLive(java.time.Duration.ofMinutes(5)).build())
                .build());
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
        RegisteredClient.Builder builder = RegisteredClient.withId(client.id())
                .clientId(client.id())
                .clientSecret(client.secret())
                .clientAuthenticationMethods(m -> m.addAll(Set.of(ClientAuthenticationMethod.CLIENT_SECRET_BASIC,
                        ClientAuthenticationMethod.CLIENT_SECRET_POST)));
        ClientSettings.Builder settings = ClientSettings.builder();
        if (client.forPeople()) {
            // an application people sign in to: authorization code with PKCE, OpenID Connect
            builder.authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
                    .redirectUris(uris -> uris.addAll(client.redirectUris()))
                    .postLogoutRedirectUris(uris -> uris.addAll(client.postLogoutRedirectUris()))
                    .scopes(s -> s.addAll(Set.of(OidcScopes.OPENID, OidcScopes.PROFILE)));
            settings.requireProofKey(true).requireAuthorizationConsent(false);
        } else {
            builder.authorizationGrantType(AuthorizationGrantType.CLIENT_CREDENTIALS);
        }
        return builder
                .scopes(s -> s.addAll(client.scopes()))
                .tokenSettings(TokenSettings.builder().accessTokenFormat(OAuth2TokenFormat.SELF_CONTAINED)
                        .accessTokenTimeToLive(client.tokenTtl()).build())
                .clientSettings(settings
                        .setting(AUDIENCE_SETTING, client.audience() != null ? client.audience() : security.audience())
                        .build())
                .build();
    }

    /**
     * Access tokens name the API they are for (the hub's audience unless the client says otherwise); a
     * person's id token names them ({@code preferred_username}, {@code name}), their console roles
     * ({@code roles}) and how they signed in ({@code amr}: a password, the only factor here).
     */
    @Bean
    OAuth2TokenCustomizer<JwtEncodingContext> tokenClaims(IssuerUsers users) {
        return context -> {
            if (OAuth2TokenType.ACCESS_TOKEN.equals(context.getTokenType())) {
                String audience = context.getRegisteredClient().getClientSettings().getSetting(AUDIENCE_SETTING);
                context.getClaims().claim(JwtClaimNames.AUD, List.of(audience));
            } else if (OidcParameterNames.ID_TOKEN.equals(context.getTokenType().getValue())) {
                String username = context.getPrincipal().getName();
                users.find(username).ifPresent(user -> context.getClaims()
                        .claim(StandardClaimNames.PREFERRED_USERNAME, username)
                        .claim(StandardClaimNames.NAME, user.displayName())
                        .claim(IssuerUsers.ROLES_CLAIM, user.roles())
                        .claim("amr", List.of("pwd")));
            }
        };
    }

    /** The people's claims at {@code /userinfo}, the same as in their id token. */
    private static java.util.function.Function<org.springframework.security.oauth2.server.authorization.oidc.authentication.OidcUserInfoAuthenticationContext,
            org.springframework.security.oauth2.core.oidc.OidcUserInfo> userInfo() {
        return context -> {
            java.util.Map<String, Object> claims = new java.util.LinkedHashMap<>();
            org.springframework.security.oauth2.server.authorization.OAuth2Authorization authorization = context.getAuthorization();
            org.springframework.security.oauth2.server.authorization.OAuth2Authorization.Token<org.springframework.security.oauth2.core.oidc.OidcIdToken> idToken =
                    authorization.getToken(org.springframework.security.oauth2.core.oidc.OidcIdToken.class);
            if (idToken != null) {
                for (String claim : List.of(StandardClaimNames.SUB, StandardClaimNames.PREFERRED_USERNAME, StandardClaimNames.NAME,
                        IssuerUsers.ROLES_CLAIM)) {
                    Object value = idToken.getToken().getClaims().get(claim);
                    if (value != null) {
                        claims.put(claim, value);
                    }
                }
            }
            claims.putIfAbsent(StandardClaimNames.SUB, authorization.getPrincipalName());
            return new org.springframework.security.oauth2.core.oidc.OidcUserInfo(claims);
        };
    }

    @Bean
    @Order(1)
    SecurityFilterChain issuerEndpoints(HttpSecurity http, ProblemResponses problems, RegisteredClientRepository clients,
                                        SecurityProperties security, AuditLog audit, ObjectMapper json, IssuerUsers users,
                                        JwtDecoder jwtDecoder) throws Exception {
        OAuth2AuthorizationServerConfigurer issuer = OAuth2AuthorizationServerConfigurer.authorizationServer();
        // client_credentials for machines, OpenID Connect for people; the device and PAR endpoints (and
        // dynamic client registration) are left to the API chain, which refuses them
        PathPatternRequestMatcher.Builder path = PathPatternRequestMatcher.withDefaults();
        RequestMatcher served = new OrRequestMatcher(path.matcher("/oauth2/token"), path.matcher("/oauth2/jwks"),
                path.matcher("/oauth2/introspect"), path.matcher("/oauth2/revoke"), path.matcher(AUTHORIZE),
                path.matcher("/userinfo"), path.matcher("/connect/logout"),
                path.matcher("/.well-known/openid-configuration"),
                path.matcher("/.well-known/oauth-authorization-server"), path.matcher("/.well-known/oauth-authorization-server/**"));
        RequestMatcher loginPage = path.matcher(LOGIN);
        // the person signed in at the issuer is kept apart from the console session in the same HTTP
        // session, as with a separate identity provider: signing in to one is not signing in to the other
        org.springframework.security.web.context.HttpSessionSecurityContextRepository contexts =
                new org.springframework.security.web.context.HttpSessionSecurityContextRepository();
        contexts.setSpringSecurityContextKey("HUB_ISSUER_SECURITY_CONTEXT");
        org.springframework.security.web.savedrequest.HttpSessionRequestCache requests =
                new org.springframework.security.web.savedrequest.HttpSessionRequestCache();
        requests.setSessionAttrName("HUB_ISSUER_SAVED_REQUEST");
        // only a person on their way to a code is sent back after signing in (no session for a machine's 401)
        requests.setRequestMatcher(path.matcher(AUTHORIZE));
        // failed passwords: audited, and slowed per source and per user name
        SignInFailures signIns = new SignInFailures(new SignInThrottle(10_000, Ticker.systemTicker()), audit, LOGIN + "?error");
        org.springframework.security.web.authentication.SavedRequestAwareAuthenticationSuccessHandler landed =
                new org.springframework.security.web.authentication.SavedRequestAwareAuthenticationSuccessHandler();
        landed.setRequestCache(requests);
        DaoAuthenticationProvider people = new DaoAuthenticationProvider(users.userDetailsService());
        people.setPasswordEncoder(PasswordEncoderFactories.createDelegatingPasswordEncoder());
        http.securityMatcher(new OrRequestMatcher(new AndRequestMatcher(issuer.getEndpointsMatcher(), served), loginPage))
                .with(issuer, server -> server.oidc(oidc -> oidc.userInfoEndpoint(info -> info.userInfoMapper(userInfo()))))
                .addFilterBefore(new TokenEndpointGuard(clients, audit, json, security.tokenEndpoint(), Ticker.systemTicker()),
                        SecurityContextHolderFilter.class)
                .addFilterBefore(new AuthorizeRequestGuard(clients, path.matcher(AUTHORIZE), json), SecurityContextHolderFilter.class)
                .addFilterBefore(signIns.gate(path.matcher(org.springframework.http.HttpMethod.POST, LOGIN)),
                        org.springframework.security.web.authentication.UsernamePasswordAuthenticationFilter.class)
                .authenticationProvider(people)
                .authorizeHttpRequests(authorize -> authorize.requestMatchers(loginPage).permitAll().anyRequest().authenticated())
                .formLogin(form -> form.loginPage(LOGIN).failureHandler(signIns.failed()).successHandler(signIns.succeeded(landed)))
                .securityContext(context -> context.securityContextRepository(contexts))
                .requestCache(cache -> cache.requestCache(requests))
                // userinfo takes the access token the console got
                .oauth2ResourceServer(server -> server.jwt(jwt -> jwt.decoder(jwtDecoder))
                        .authenticationEntryPoint(problems.unauthorized()))
                // the token endpoint and its kind take no session (nothing there saves one); only the
                // person signing in gets one, and CSRF guards the login form
                .csrf(csrf -> csrf.ignoringRequestMatchers(issuer.getEndpointsMatcher()))
                .exceptionHandling(errors -> errors
                        .defaultAuthenticationEntryPointFor(new LoginUrlAuthenticationEntryPoint(LOGIN), path.matcher(AUTHORIZE))
                        .defaultAuthenticationEntryPointFor(problems.unauthorized(), AnyRequestMatcher.INSTANCE));
        return http.build();
    }

    static final String AUTHORIZE = "/oauth2/authorize";
    static final String LOGIN = "/login";

    private static String thumbprint(KeyPair pair) {
        try {
            return new RSAKey.Builder((RSAPublicKey) pair.getPublic()).build().computeThumbprint().toString();
        } catch (com.nimbusds.jose.JOSEException e) {
            return new String(java.util.Base64.getUrlEncoder().encode(pair.getPublic().getEncoded()), StandardCharsets.US_ASCII)
                    .substring(0, 16);
        }
    }
}
