package org.supplyhub.security;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.core.io.Resource;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code hub.security.*}: what a bearer token must carry, and the embedded issuer's clients.
 *
 * @param issuer     the embedded issuer's identifier ({@code iss}); with an external issuer given only by
 *                   {@code jwk-set-uri}, the issuer its tokens must carry
 * @param audience   the {@code aud} every token must name
 * @param clockSkew  tolerance on {@code exp} and {@code nbf}
 * @param signingKey PEM (PKCS#8) RSA key the embedded issuer signs with; nodes sharing a database must
 *                   share it. Without it a key is generated at start, and tokens end with the process.
 * @param clients    the embedded issuer's OAuth2 clients (client_credentials), keyed by client id: a map, so
 *                   a further config file adds or changes one entry instead of replacing the whole list
 * @param tokenEndpoint how many failed client authentications the token endpoint allows
 * @param requireTls      refuse to start unless the HTTP API is served over TLS ({@code server.ssl}); on in
 *                        the {@code prod} profile
 * @param behindTlsProxy  the hub sits behind a TLS-terminating proxy: {@code requireTls} is met without
 *                        {@code server.ssl}
 */
@ConfigurationProperties("hub.security")
public record SecurityProperties(String issuer, String audience, Duration clockSkew, Resource signingKey,
                                 Map<String, Client> clients, TokenEndpoint tokenEndpoint, boolean requireTls,
                                 boolean behindTlsProxy) {

    public SecurityProperties {
        audience = audience == null || audience.isBlank() ? "supply-hub" : audience;
        clockSkew = clockSkew == null ? Duration.ofSeconds(60) : clockSkew;
        clients = clients == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(clients));
        tokenEndpoint = tokenEndpoint == null ? new TokenEndpoint(0, 0, null) : tokenEndpoint;
    }

    /**
     * Throttling of {@code /oauth2/token}: after this many failed client authentications in one
     * window, per client id or per source address, it answers 429 until the window ends.
     */
    public record TokenEndpoint(int maxFailuresPerClient, int maxFailuresPerAddress, Duration window) {
        public TokenEndpoint {
            maxFailuresPerClient = maxFailuresPerClient <= 0 ? 10 : maxFailuresPerClient;
            maxFailuresPerAddress = maxFailuresPerAddress <= 0 ? 50 : maxFailuresPerAddress;
            window = window == null ? Duration.ofMinutes(15) : window;
        }
    }

    /**
     * One client of the embedded issuer.
     *
     * @param id       the client id; defaults to the key it is listed under
     * @param secret   hashed, with its encoder prefix ({@code {bcrypt}…}); plain text is refused
     * @param scopes   the scopes it may ask for, e.g. {@code ingest:mercy-or}, {@code messages:read}
     * @param tokenTtl how long its tokens live (default 15 minutes)
     * @param audience the {@code aud} of its tokens when they are meant for another API (default the hub's)
     */
    public record Client(String id, String secret, List<String> scopes, Duration tokenTtl, String audience) {
        public Client {
            scopes = scopes == null ? List.of() : List.copyOf(scopes);
            tokenTtl = tokenTtl == null ? Duration.ofMinutes(15) : tokenTtl;
        }

        /** The client with its key as id unless it names one (a list, {@code clients[0].id}, binds as keys 0, 1…). */
        Client identifiedBy(String key) {
            return id != null && !id.isBlank() ? this : new Client(key, secret, scopes, tokenTtl, audience);
        }
    }
}
