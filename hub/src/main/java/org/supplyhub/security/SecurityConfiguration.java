package org.supplyhub.security;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpMethod;
import org.springframework.security.config.annotation.web.builders.HttpSecurity;
import org.springframework.security.config.annotation.web.configuration.EnableWebSecurity;
import org.springframework.security.config.annotation.web.configurers.AbstractHttpConfigurer;
import org.springframework.security.config.http.SessionCreationPolicy;
import org.springframework.security.oauth2.core.DelegatingOAuth2TokenValidator;
import org.springframework.security.oauth2.core.OAuth2TokenValidator;
import org.springframework.security.oauth2.jwt.Jwt;
import org.springframework.security.oauth2.jwt.JwtClaimNames;
import org.springframework.security.oauth2.jwt.JwtClaimValidator;
import org.springframework.security.oauth2.jwt.JwtDecoder;
import org.springframework.security.oauth2.jwt.JwtIssuerValidator;
import org.springframework.security.oauth2.jwt.JwtTimestampValidator;
import org.springframework.security.oauth2.jwt.NimbusJwtDecoder;
import org.springframework.security.web.SecurityFilterChain;
import org.springframework.security.web.access.expression.WebExpressionAuthorizationManager;
import org.supplyhub.mapping.ConfigurationException;

import java.security.interfaces.RSAPublicKey;
import java.util.Collection;
import java.util.List;

/**
 * Who may call what over HTTP. Every endpoint but {@code /actuator/health} takes a bearer JWT whose
 * signature, {@code exp}/{@code nbf}, {@code iss} and {@code aud} check out; then the scope decides:
 * {@code ingest:{interfaceId}} for {@code POST /hl7/{interfaceId}}, {@code messages:read} and
 * {@code messages:replay} for the admin API, {@code metrics:read} for the other actuator endpoints.
 */
@Configuration
@EnableWebSecurity
public class SecurityConfiguration {

    @Bean
    @Order(2)
    SecurityFilterChain api(HttpSecurity http, JwtDecoder jwtDecoder, ProblemResponses problems) throws Exception {
        http.authorizeHttpRequests(requests -> requests
                        .dispatcherTypeMatchers(jakarta.servlet.DispatcherType.ERROR).permitAll()
                        .requestMatchers("/actuator/health", "/actuator/health/**").permitAll()
                        .requestMatchers(HttpMethod.POST, "/hl7/{interfaceId}")
                        .access(new WebExpressionAuthorizationManager("hasAuthority('SCOPE_ingest:' + #interfaceId)"))
                        .requestMatchers(HttpMethod.POST, "/api/messages/{id}/replay").hasAuthority("SCOPE_messages:replay")
                        .requestMatchers(HttpMethod.POST, "/api/messages/{id}/reprocess").hasAuthority("SCOPE_messages:replay")
                        .requestMatchers(HttpMethod.GET, "/api/**").hasAuthority("SCOPE_messages:read")
                        .requestMatchers("/actuator/**").hasAuthority("SCOPE_metrics:read")
                        .anyRequest().authenticated())
                .oauth2ResourceServer(server -> server
                        .jwt(jwt -> jwt.decoder(jwtDecoder))
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
        return new DelegatingOAuth2TokenValidator<>(List.of(
                new JwtClaimValidator<Object>(JwtClaimNames.EXP, java.util.Objects::nonNull), // a token must end
                new JwtTimestampValidator(security.clockSkew()),
                new JwtIssuerValidator(issuer),
                new JwtClaimValidator<Collection<String>>(JwtClaimNames.AUD, aud -> aud != null && aud.contains(audience))));
    }
}
