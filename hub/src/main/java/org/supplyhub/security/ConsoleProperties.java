package org.supplyhub.security;

import org.springframework.boot.context.properties.ConfigurationProperties;

import java.time.Duration;
import java.util.List;

/**
 * {@code hub.console.*}: how people sign in to the console.
 *
 * @param idleTimeout  a console session without a request for this long ends (default 15 minutes)
 * @param requireMfa   refuse sessions whose {@code amr} / {@code acr} does not show a second factor
 * @param mfaAmr       {@code amr} values that count as a second factor
 * @param mfaAcr       {@code acr} values that count as a second factor; also sent as {@code acr_values}
 *                     when MFA is required, so the issuer asks for it
 * @param rolesClaim   the claim (of the id token or userinfo) holding the person's roles; a dotted path
 *                     reaches into objects ({@code realm_access.roles})
 * @param clientId     the console's client id at the issuer
 * @param clientSecret its secret at an external issuer (the embedded issuer pairs with the console itself)
 * @param issuerBackchannelUri where the hub reaches its own embedded issuer for the code exchange
 *                     (default {@code http://127.0.0.1:<server port>}); set it when that is not plain HTTP
 * @param discoveryUri where the hub reads an external issuer's OpenID configuration when it cannot reach
 *                     the issuer's public name ({@code issuer-uri}), e.g. Keycloak inside a compose network;
 *                     the configuration must still name {@code issuer-uri} as its issuer
 */
@ConfigurationProperties("hub.console")
public record ConsoleProperties(Duration idleTimeout, boolean requireMfa, List<String> mfaAmr, List<String> mfaAcr,
                                String rolesClaim, String clientId, String clientSecret, String issuerBackchannelUri,
                                String discoveryUri) {

    public ConsoleProperties {
        idleTimeout = idleTimeout == null ? Duration.ofMinutes(15) : idleTimeout;
        mfaAmr = mfaAmr == null ? List.of("mfa", "otp", "hwk", "swk") : List.copyOf(mfaAmr);
        mfaAcr = mfaAcr == null ? List.of() : List.copyOf(mfaAcr);
        rolesClaim = rolesClaim == null || rolesClaim.isBlank() ? "roles" : rolesClaim;
        clientId = clientId == null || clientId.isBlank() ? "hub-console" : clientId;
    }
}
