package org.supplyhub.security;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtIssuerValidator;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;
import org.springframework.security.oauth2.server.resource.authentication.JwtAuthenticationToken;
import org.springframework.security.oauth2.server.resource.authentication.JwtGrantedAuthoritiesConverter;
import org.springframework.security.authentication.AbstractAuthenticationToken;
import org.springframework.security.authentication.AuthenticationEventPublisher;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.supplyhub.mapping.ConfigurationException;

import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/**
 * Who may call what over HTTP. Every endpoint but {@code /actuator/health} takes a bearer JWT whose
 * signature, {@code exp}/{@code nbf}, {@code iss}, {@code aud} and {@code sub} check out; then the
 * scope the one table {@link AccessRules} names for the method and path decides. A method or path
 * not in that table is refused (deny by default).
 */
@Configuration
@EnableWebSecurity
public class SecurityConfiguration {

    @Bean
    @Order(2)
    SecurityFilterChain api(HttpSecurity http, JwtDecoder jwtDecoder, ProblemResponses problems) throws Exception {
        http.authorizeHttpRequests(requests -> {
                    requests.dispatcherTypeMatchers(jakarta.servlet.DispatcherType.ERROR).permitAll();
                    for (AccessRules.Rule rule : AccessRules.RULES) {
                        for (RequestMatcher matcher : rule.matchers()) {
                            if (rule.open()) {
                                requests.requestMatchers(matcher).permitAll();
                            } else {
                                requests.requestMatchers(matcher).access(rule.manager());
                            }
                        }
                    }
                    // deny by default: a method or path the table does not name is refused
                    requests.anyRequest().denyAll();
                })
                .oauth2ResourceServer(server -> server
                        .jwt(jwt -> jwt.decoder(jwtDecoder).jwtAuthenticationConverter(SecurityConfiguration::authentication))
                        .authenticationEntryPoint(problems.unauthorized())
                        .accessDeniedHandler(problems.forbidden()))
                .exceptionHandling(errors -> errors
                        .authenticationEntryPoint(problems.unauthorized())
                        .accessDeniedHandler(problems.forbidden()))
                // bearer tokens only: no session, no cookie, so no CSRF to guard against
                .sessionManagement(session -> session.sessionCreationPolicy(SessionCreationPolicy.STATELESS))
                .csrf(AbstractHttpConfigurer::disable)
                .requestCache(AbstractHttpConfigurer::disable)
                .formLogin(AbstractHttpConfigurer::disable)
                .httpBasic(AbstractHttpConfigurer::disable);
        return http.build();
    }

    /**
     * Spring's authentication events carry the bearer token as their source, and every application
     * listener sees them (Camel's logs each one at DEBUG). The hub audits refusals itself
     * ({@link ProblemResponses}), so it publishes none.
     */
    @Bean
    AuthenticationEventPublisher silentAuthenticationEvents() {
        return new AuthenticationEventPublisher() {
            @Override
            public void publishAuthenticationSuccess(Authentication authentication) { }

            @Override
            public void publishAuthenticationFailure(AuthenticationException exception, Authentication authentication) { }
        };
    }

    /**
     * Scopes as authorities; the caller is named by the client the token was issued to ({@code azp},
     * then {@code client_id}), else its subject: an external issuer's {@code sub} for a service
     * account is an opaque UUID.
     */
    static AbstractAuthenticationToken authentication(Jwt jwt) {
        return new JwtAuthenticationToken(jwt, SCOPES.convert(jwt), actor(jwt));
    }

    static String actor(Jwt jwt) {
        for (String claim : List.of("azp", "client_id", JwtClaimNames.SUB)) {
            String value = jwt.getClaimAsString(claim);
            if (value != null && !value.isBlank()) {
                return value;
            }
        }
        return jwt.getSubject();
    }

    private static final JwtGrantedAuthoritiesConverter SCOPES = new JwtGrantedAuthoritiesConverter();

    /**
     * Verifies bearer tokens: with the embedded issuer's own key in the default mode, otherwise with
     * the external issuer's published keys ({@code issuer-uri} or {@code jwk-set-uri}).
     */
    @Bean
    JwtDecoder jwtDecoder(SecurityProperties security,
                          @Value("${spring.security.oauth2.resourceserver.jwt.issuer-uri:}") String issuerUri,
                          @Value("${spring.security.oauth2.resourceserver.jwt.jwk-set-uri:}") String jwkSetUri,
                          org.springframework.beans.factory.ObjectProvider<EmbeddedIssuerConfiguration.SigningKey> embedded) {
        NimbusJwtDecoder decoder;
        String expectedIssuer;
        if (!jwkSetUri.isBlank()) {
            decoder = NimbusJwtDecoder.withJwkSetUri(jwkSetUri).build();
            expectedIssuer = !issuerUri.isBlank() ? issuerUri : security.issuer();
            if (expectedIssuer == null || expectedIssuer.isBlank()) {
                throw new ConfigurationException("with jwk-set-uri, set issuer-uri or hub.security.issuer to the issuer"
                        + " tokens must carry; tokens from any other issuer are refused");
            }
        } else if (!issuerUri.isBlank()) {
            decoder = NimbusJwtDecoder.withIssuerLocation(issuerUri).build();
            expectedIssuer = issuerUri;
        } else {
            EmbeddedIssuerConfiguration.SigningKey key = embedded.getObject();
            decoder = NimbusJwtDecoder.withPublicKey((RSAPublicKey) key.keyPair().getPublic()).build();
            expectedIssuer = key.issuer();
        }
        decoder.setJwtValidator(validator(expectedIssuer, security));
        return decoder;
    }

    static OAuth2TokenValidator<Jwt> validator(String issuer, SecurityProperties security) {
        String audience = security.audience();
        Duration skew = security.clockSkew();
        JwtIssuerValidator issuerValidator = new JwtIssuerValidator(issuer);
        return new DelegatingOAuth2TokenValidator<>(List.of(
                jwt -> {
                    Instant now = Instant.now();
                    if (jwt.getExpiresAt() == null) {
                        return TokenFault.NO_EXPIRY.result(); // a token must end
                    }
                    if (now.minus(skew).isAfter(jwt.getExpiresAt())) {
                        return TokenFault.EXPIRED.result();
                    }
                    if (jwt.getNotBefore() != null && now.plus(skew).isBefore(jwt.getNotBefore())) {
                        return TokenFault.NOT_YET_VALID.result();
                    }
                    return OAuth2TokenValidatorResult.success();
                },
                jwt -> issuerValidator.validate(jwt).hasErrors() ? TokenFault.ISSUER.result() : OAuth2TokenValidatorResult.success(),
                jwt -> jwt.getAudience() != null && jwt.getAudience().contains(audience)
                        ? OAuth2TokenValidatorResult.success() : TokenFault.AUDIENCE.result(),
                // every caller must be someone: no "client:null" in the audit trail
                jwt -> jwt.getSubject() != null && !jwt.getSubject().isBlank()
                        ? OAuth2TokenValidatorResult.success() : TokenFault.NO_SUBJECT.result()));
    }
}
