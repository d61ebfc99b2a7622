package org.supplyhub.security;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.HttpSessionEvent;
import jakarta.servlet.http.HttpSessionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.core.env.Environment;
import org.springframework.http.HttpMethod;
import org.springframework.security.authentication.AnonymousAuthenticationToken;
import org.springframework.security.authentication.InsufficientAuthenticationException;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.core.authority.SimpleGrantedAuthority;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserRequest;
import org.springframework.security.oauth2.client.oidc.userinfo.OidcUserService;
import org.springframework.security.oauth2.client.oidc.web.logout.OidcClientInitiatedLogoutSuccessHandler;
import org.springframework.security.oauth2.client.registration.ClientRegistration;
import org.springframework.security.oauth2.client.registration.ClientRegistrationRepository;
import org.springframework.security.oauth2.client.registration.ClientRegistrations;
import org.springframework.security.oauth2.client.userinfo.OAuth2UserService;
import org.springframework.security.oauth2.client.web.DefaultOAuth2AuthorizationRequestResolver;
import org.springframework.security.oauth2.client.web.OAuth2AuthorizationRequestCustomizers;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.core.ClientAuthenticationMethod;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.oidc.OidcScopes;
import org.springframework.security.oauth2.core.oidc.StandardClaimNames;
import org.springframework.security.oauth2.core.oidc.user.DefaultOidcUser;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.security.web.authentication.AuthenticationFailureHandler;
import org.springframework.security.web.authentication.SavedRequestAwareAuthenticationSuccessHandler;
import org.springframework.security.web.authentication.logout.LogoutHandler;
import org.springframework.security.web.savedrequest.HttpSessionRequestCache;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.AndRequestMatcher;
import org.springframework.security.web.util.matcher.NegatedRequestMatcher;
import org.springframework.security.web.util.matcher.OrRequestMatcher;
import org.springframework.security.web.util.matcher.RequestHeaderRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.springframework.web.util.HtmlUtils;
import org.supplyhub.journal.AuditLog;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * The console's sign-in and sessions: OpenID Connect (authorization code with PKCE) at the embedded
 * issuer, or at the external one named by {@code issuer-uri}; the person's roles become the scopes of
 * {@link ConsoleRole}, and {@link AccessRules} decides. Sessions: cookie only (HttpOnly, SameSite=Lax,
 * Secure over TLS), CSRF on every POST, idle timeout {@code hub.console.idle-timeout}; signing out ends
 * the session here and at the issuer. The API's chain ({@link SecurityConfiguration}) takes no sessions
 * and is untouched by this one.
 */
@Configuration
public class ConsoleSecurityConfiguration {

    private static final Logger log = LoggerFactory.getLogger(ConsoleSecurityConfiguration.class);
    static final String AUTHORIZATION_BASE = "/oauth2/authorization";
    static final String CALLBACK = "/login/oauth2/code/*";
    private static final String HX_REQUEST = "HX-Request";

    /** The console's registration at its issuer, built on first use: start-up needs no issuer. */
    static final class ConsoleClientRegistrations implements ClientRegistrationRepository {
        private final String registrationId;
        private final Supplier<ClientRegistration> build;
        private volatile ClientRegistration registration;

        ConsoleClientRegistrations(String registrationId, Supplier<ClientRegistration> build) {
            this.registrationId = registrationId;
            this.build = build;
        }

        @Override
        public ClientRegistration findByRegistrationId(String id) {
            if (!registrationId.equals(id)) {
                return null;
            }
            ClientRegistration r = registration;
            if (r == null) {
                synchronized (this) {
                    if (registration == null) {
                        registration = build.get();
                    }
                    r = registration;
                }
            }
            return r;
        }
    }

    /**
     * The console's own registration, deliberately not a {@link ClientRegistrationRepository} bean: one
     * would replace Spring Boot's repository of the outbound client-credentials registrations
     * ({@code spring.security.oauth2.client.registration.*}, used by the delivery connectors).
     */
    record ConsoleRegistrations(ClientRegistrationRepository repository) { }

    @Bean
    ConsoleRegistrations consoleClientRegistrations(ConsoleProperties console, Environment environment,
            @Value("${spring.security.oauth2.resourceserver.jwt.issuer-uri:}") String issuerUri,
            ObjectProvider<EmbeddedIssuerConfiguration.ConsolePairing> embedded) {
        EmbeddedIssuerConfiguration.ConsolePairing pairing = embedded.getIfAvailable();
        if (pairing != null) {
            return new ConsoleRegistrations(new ConsoleClientRegistrations(pairing.clientId(), () -> {
                // the hub calls its own issuer (code exchange, keys) over loopback; browsers go to the issuer's name
                String back = console.issuerBackchannelUri() != null && !console.issuerBackchannelUri().isBlank()
                        ? console.issuerBackchannelUri()
                        : "http://127.0.0.1:" + environment.getProperty("local.server.port", environment.getProperty("server.port", "8080"));
                return ClientRegistration.withRegistrationId(pairing.clientId())
                        .clientId(pairing.clientId()).clientSecret(pairing.secret())
                        .clientAuthenticationMethod(ClientAuthenticationMethod.CLIENT_SECRET_BASIC)
                        .authorizationGrantType(AuthorizationGrantType.AUTHORIZATION_CODE)
                        .redirectUri(pairing.redirectUri())
                        .scope(OidcScopes.OPENID, OidcScopes.PROFILE)
                        .authorizationUri(pairing.issuer() + EmbeddedIssuerConfiguration.AUTHORIZE)
                        .tokenUri(back + "/oauth2/token")
                        .jwkSetUri(back + "/oauth2/jwks")
                        .issuerUri(pairing.issuer())
                        .userNameAttributeName(StandardClaimNames.SUB)
                        .providerConfigurationMetadata(Map.of("end_session_endpoint", pairing.issuer() + "/connect/logout"))
                        .clientName("Supply Hub console")
                        .build();
            }));
        }
        return new ConsoleRegistrations(new ConsoleClientRegistrations(console.clientId(), () -> {
            // Spring's own client properties, when given for the console, say it all (e.g. a public URL for
            // the browser and in-network ones for the hub: spring.security.oauth2.client.provider.<id>.*)
            var spring = org.springframework.boot.context.properties.bind.Binder.get(environment)
                    .bind("spring.security.oauth2.client", org.springframework.boot.autoconfigure.security.oauth2.client.OAuth2ClientProperties.class)
                    .orElse(null);
            if (spring != null && spring.getRegistration().containsKey(console.clientId())) {
                return new org.springframework.boot.autoconfigure.security.oauth2.client.OAuth2ClientPropertiesMapper(spring)
                        .asClientRegistrations().get(console.clientId());
            }
            if (issuerUri.isBlank()) {
                throw new IllegalStateException("the console signs in at the issuer named by"
                        + " spring.security.oauth2.resourceserver.jwt.issuer-uri, and none is set (only jwk-set-uri)");
            }
            boolean secret = console.clientSecret() != null && !console.clientSecret().isBlank();
            ClientRegistration.Builder discovered;
            if (console.discoveryUri() != null && !console.discoveryUri().isBlank()) {
                // read over an inner address; the browser-facing endpoints in it are the issuer's public ones
                Map<String, Object> metadata = org.springframework.web.client.RestClient.create()
                        .get().uri(console.discoveryUri().replaceAll("/+$", "") + "/.well-known/openid-configuration")
                        .retrieve().body(new org.springframework.core.ParameterizedTypeReference<Map<String, Object>>() { });
                if (metadata == null || !issuerUri.equals(metadata.get("issuer"))) {
                    throw new IllegalStateException("hub.console.discovery-uri: the OpenID configuration there does not name "
                            + issuerUri + " (spring.security.oauth2.resourceserver.jwt.issuer-uri) as its issuer");
                }
                discovered = ClientRegistrations.fromOidcConfiguration(metadata);
            } else {
                discovered = ClientRegistrations.fromIssuerLocation(issuerUri);
            }
            return discovered.registrationId(console.clientId())
                    .clientId(console.clientId()).clientSecret(secret ? console.clientSecret() : null)
                    .clientAuthenticationMethod(secret ? ClientAuthenticationMethod.CLIENT_SECRET_BASIC : ClientAuthenticationMethod.NONE)
                    .redirectUri("{baseUrl}/login/oauth2/code/{registrationId}")
                    .scope(OidcScopes.OPENID, OidcScopes.PROFILE)
                    .userNameAttributeName(StandardClaimNames.SUB)
                    .clientName("Supply Hub console")
                    .build();
        }));
    }

    /** Every HTTP session (only the console and its sign-in make one) ends after the idle timeout. */
    @Bean
    HttpSessionListener consoleIdleTimeout(ConsoleProperties console) {
        int seconds = (int) Math.max(1, console.idleTimeout().toSeconds());
        return new HttpSessionListener() {
            @Override
            public void sessionCreated(HttpSessionEvent event) {
                event.getSession().setMaxInactiveInterval(seconds);
            }
        };
    }

    @Bean
    @Order(0)
    SecurityFilterChain console(HttpSecurity http, ConsoleRegistrations consoleRegistrations, ConsoleProperties console,
                                AuditLog audit, ObjectProvider<EmbeddedIssuerConfiguration.ConsolePairing> embedded)
            throws Exception {
        ClientRegistrationRepository registrations = consoleRegistrations.repository();
        EmbeddedIssuerConfiguration.ConsolePairing pairing = embedded.getIfAvailable();
        String registrationId = pairing != null ? pairing.clientId() : console.clientId();
        // embedded: the whole sign-in happens at the issuer's own name, where its redirect URI points
        String signIn = (pairing != null ? pairing.issuer() : "") + AUTHORIZATION_BASE + "/" + registrationId;
        PathPatternRequestMatcher.Builder path = PathPatternRequestMatcher.withDefaults();
        RequestMatcher noBearer = new NegatedRequestMatcher(request -> {
            String header = request.getHeader("Authorization");
            return header != null && header.regionMatches(true, 0, "Bearer ", 0, 7);
        });
        RequestMatcher served = new OrRequestMatcher(path.matcher(AccessRules.CONSOLE), path.matcher(AccessRules.CONSOLE + "/**"),
                path.matcher(AUTHORIZATION_BASE + "/*"), path.matcher(CALLBACK),
                // the API's description, for a person signed in (a bearer token goes to the API's chain)
                new AndRequestMatcher(new OrRequestMatcher(docs(path, HttpMethod.GET), docs(path, HttpMethod.HEAD)), noBearer));

        AuthenticationEntryPoint toSignIn = (request, response, e) -> {
            if ("true".equalsIgnoreCase(request.getHeader(HX_REQUEST))) {
                // htmx swaps fragments: a redirect would put the sign-in page inside one
                response.setStatus(HttpServletResponse.SC_UNAUTHORIZED);
                response.setHeader("HX-Redirect", signIn);
                return;
            }
            response.sendRedirect(signIn);
        };
        AccessDeniedHandler forbidden = (request, response, e) -> {
            Authentication who = SecurityContextHolder.getContext().getAuthentication();
            if (who == null || who instanceof AnonymousAuthenticationToken || !who.isAuthenticated()) {
                // an ended session's POST fails its CSRF check first: that is a sign-in matter, not a 403
                toSignIn.commence(request, response, new InsufficientAuthenticationException("no session"));
                return;
            }
            Optional<ConsoleUser> person = ConsoleUser.of(who);
            audit.denied(person.map(ConsoleUser::actor).orElse("user:" + who.getName()), target(request), "403",
                    e instanceof org.springframework.security.web.csrf.CsrfException ? "CSRF token missing or wrong"
                            : "role " + person.map(p -> p.role().id()).orElse("none") + " lacks the scope");
            page(response, HttpServletResponse.SC_FORBIDDEN, "Not allowed",
                    "Your role (" + person.map(p -> p.role().id()).orElse("none") + ") does not allow this.");
        };

        DefaultOAuth2AuthorizationRequestResolver authorizationRequests =
                new DefaultOAuth2AuthorizationRequestResolver(registrations, AUTHORIZATION_BASE);
        authorizationRequests.setAuthorizationRequestCustomizer(OAuth2AuthorizationRequestCustomizers.withPkce()
                .andThen(request -> {
                    if (console.requireMfa() && !console.mfaAcr().isEmpty()) {
                        request.additionalParameters(p -> p.put("acr_values", String.join(" ", console.mfaAcr())));
                    }
                }));

        SavedRequestAwareAuthenticationSuccessHandler landed = new SavedRequestAwareAuthenticationSuccessHandler();
        landed.setDefaultTargetUrl(AccessRules.CONSOLE);
        HttpSessionRequestCache requestCache = new PhiFreeRequestCache();
        // a page, not an htmx fragment or a sign-in step, is where a person returns after signing in
        requestCache.setRequestMatcher(new AndRequestMatcher(path.matcher(HttpMethod.GET, "/**"),
                new NegatedRequestMatcher(new RequestHeaderRequestMatcher(HX_REQUEST)),
                new NegatedRequestMatcher(path.matcher(AccessRules.CONSOLE + "/assets/**"))));

        OidcClientInitiatedLogoutSuccessHandler signedOut = new OidcClientInitiatedLogoutSuccessHandler(registrations);
        signedOut.setPostLogoutRedirectUri(pairing != null ? pairing.postLogoutRedirectUri() : "{baseUrl}" + AccessRules.CONSOLE);
        signedOut.setDefaultTargetUrl(AccessRules.CONSOLE);
        LogoutHandler auditSignOut = (request, response, who) -> ConsoleUser.of(who)
                .ifPresent(p -> audit.record(p.actor(), "SIGN_OUT", null, "console", "OK", null));

        http.securityMatcher(served)
                .authorizeHttpRequests(requests -> {
                    requests.dispatcherTypeMatchers(jakarta.servlet.DispatcherType.ERROR).permitAll();
                    requests.requestMatchers(path.matcher(AUTHORIZATION_BASE + "/*"), path.matcher(CALLBACK)).permitAll();
                    for (AccessRules.Rule rule : AccessRules.RULES) {
                        for (RequestMatcher matcher : rule.matchers()) {
                            if (rule.open()) {
                                requests.requestMatchers(matcher).permitAll();
                            } else {
                                requests.requestMatchers(matcher).access(rule.manager());
                            }
                        }
                    }
                    requests.anyRequest().denyAll();
                })
                .oauth2Login(login -> login
                        .clientRegistrationRepository(registrations)
                        // the signed-in person's tokens stay in their session, never in the outbound clients' store
                        .authorizedClientRepository(new org.springframework.security.oauth2.client.web.HttpSessionOAuth2AuthorizedClientRepository())
                        .loginPage(signIn)
                        .authorizationEndpoint(a -> a.authorizationRequestResolver(authorizationRequests))
                        .userInfoEndpoint(u -> u.oidcUserService(people(console, audit, pairing != null)))
                        .successHandler(landed)
                        .failureHandler(refused()))
                .logout(logout -> logout.logoutRequestMatcher(path.matcher(HttpMethod.POST, AccessRules.CONSOLE + "/logout"))
                        .addLogoutHandler(auditSignOut)
                        .logoutSuccessHandler(signedOut))
                .requestCache(cache -> cache.requestCache(requestCache))
                .exceptionHandling(errors -> errors.authenticationEntryPoint(toSignIn).accessDeniedHandler(forbidden))
                .csrf(org.springframework.security.config.Customizer.withDefaults())
                // console URLs can carry a searched MRN: no Referer to other sites, no page kept in a cache
                .headers(headers -> headers.cacheControl(org.springframework.security.config.Customizer.withDefaults())
                        .referrerPolicy(referrer -> referrer.policy(
                                org.springframework.security.web.header.writers.ReferrerPolicyHeaderWriter.ReferrerPolicy.NO_REFERRER)));
        return http.build();
    }

    /** The API's description and Swagger UI, read with one method. */
    private static RequestMatcher docs(PathPatternRequestMatcher.Builder path, HttpMethod method) {
        return new OrRequestMatcher(path.matcher(method, "/v3/api-docs"), path.matcher(method, "/v3/api-docs.yaml"),
                path.matcher(method, "/v3/api-docs/**"), path.matcher(method, "/swagger-ui.html"), path.matcher(method, "/swagger-ui/**"));
    }

    /**
     * The person's roles (from the configured claim; the embedded issuer's {@code roles}) become
     * their scopes; no console role, or no second factor when one is required, and no session.
     */
    static OAuth2UserService<OidcUserRequest, OidcUser> people(ConsoleProperties console, AuditLog audit, boolean embedded) {
        OidcUserService standard = new OidcUserService();
        String rolesClaim = embedded ? IssuerUsers.ROLES_CLAIM : console.rolesClaim();
        return request -> {
            OidcUser person = standard.loadUser(request);
            Map<String, Object> claims = person.getClaims();
            String username = person.getPreferredUsername() != null ? person.getPreferredUsername() : person.getSubject();
            String actor = "user:" + username;
            Optional<ConsoleRole> role = ConsoleRole.highest(ConsoleClaims.values(claims, rolesClaim));
            if (role.isEmpty()) {
                audit.denied(actor, "console sign-in", "403", "no console role in claim " + rolesClaim);
                throw new OAuth2AuthenticationException(new OAuth2Error(NO_ROLE));
            }
            if (console.requireMfa() && !ConsoleClaims.hasSecondFactor(claims, console)) {
                audit.denied(actor, "console sign-in", "403", "no second factor in amr/acr");
                throw new OAuth2AuthenticationException(new OAuth2Error(NO_MFA));
            }
            List<GrantedAuthority> authorities = new ArrayList<>();
            role.get().scopes().forEach(scope -> authorities.add(new SimpleGrantedAuthority("SCOPE_" + scope)));
            authorities.add(new SimpleGrantedAuthority(ConsoleUser.ROLE_PREFIX + role.get().id()));
            audit.record(actor, "SIGN_IN", null, "console", "OK", "role " + role.get().id());
            String nameKey = person.getPreferredUsername() != null ? StandardClaimNames.PREFERRED_USERNAME : StandardClaimNames.SUB;
            return new DefaultOidcUser(authorities, person.getIdToken(), person.getUserInfo(), nameKey);
        };
    }

    static final String NO_ROLE = "no_console_role";
    static final String NO_MFA = "mfa_required";

    /** A refused sign-in says why, in the hub's words (never the issuer's text). */
    private static AuthenticationFailureHandler refused() {
        return (request, response, e) -> {
            String code = e instanceof OAuth2AuthenticationException oauth ? oauth.getError().getErrorCode() : "";
            String why = switch (code) {
                case NO_ROLE -> "Your account has no Supply Hub console role (viewer, operator or admin).";
                case NO_MFA -> "This hub requires sign-in with a second factor (MFA); your sign-in did not use one.";
                default -> "Sign-in did not complete" + (code.matches("[a-z_]{1,40}") ? " (" + code + ")" : "") + ".";
            };
            log.info("Console sign-in refused: {}", code.matches("[a-z_]{1,40}") ? code : "other");
            page(response, HttpServletResponse.SC_FORBIDDEN, "Sign-in refused", why);
        };
    }

    private static void page(HttpServletResponse response, int status, String title, String text) throws IOException {
        response.setStatus(status);
        response.setContentType("text/html;charset=UTF-8");
        String html = "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + HtmlUtils.htmlEscape(title)
                + " · Supply Hub</title></head><body><main><h1 id=\"problem-title\">" + HtmlUtils.htmlEscape(title)
                + "</h1><p id=\"problem-detail\">" + HtmlUtils.htmlEscape(text)
                + "</p><p><a href=\"" + AccessRules.CONSOLE + "\">Back to the console</a></p></main></body></html>";
        response.getOutputStream().write(html.getBytes(StandardCharsets.UTF_8));
    }

    private static String target(HttpServletRequest request) {
        String uri = request.getRequestURI();
        return request.getMethod() + " " + (uri.length() > 180 ? uri.substring(0, 180) : uri);
    }
}
