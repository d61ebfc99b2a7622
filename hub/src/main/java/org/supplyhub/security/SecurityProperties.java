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
 * @param users      the people who sign in at the embedded issuer (the console's form login), keyed by login name
 * @param tokenEndpoint how many failed client authentications the token endpoint allows
 * @param requireTls      refuse to start unless the HTTP API is served over TLS ({@code server.ssl}); on in
 *                        the {@code prod} profile
 * @param behindTlsProxy  the hub sits behind a TLS-terminating proxy: {@code requireTls} is met without
 *                        {@code server.ssl}
 */
@ConfigurationProperties("hub.security")
public record SecurityProperties(String issuer, String audience, Duration clockSkew, Resource signingKey,
                                 Map<String, Client> clients, Map<String, User> users, TokenEndpoint tokenEndpoint,
                                 boolean requireTls, boolean behindTlsProxy) {

    public SecurityProperties {
        audience = audience == null || audience.isBlank() ? "supply-hub" : audience;
        clockSkew = clockSkew == null ? Duration.ofSeconds(60) : clockSkew;
        clients = clients == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(clients));
        users = users == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(users));
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
     * @param redirectUris an application people sign in to (OpenID Connect, authorization code with PKCE, e.g.
     *                 another hub's console) instead of a machine: where the issuer may send its codes
     * @param postLogoutRedirectUris where such an application may ask to land after signing out
     */
    public record Client(String id, String secret, List<String> scopes, Duration tokenTtl, String audience,
                         List<String> redirectUris, List<String> postLogoutRedirectUris) {
        public Client {
            scopes = scopes == null ? List.of() : List.copyOf(scopes);
            tokenTtl = tokenTtl == null ? Duration.ofMinutes(15) : tokenTtl;
            redirectUris = redirectUris == null ? List.of() : List.copyOf(redirectUris);
            postLogoutRedirectUris = postLogoutRedirectUris == null ? List.of() : List.copyOf(postLogoutRedirectUris);
        }

        /** The client with its key as id unless it names one (a list, {@code clients[0].id}, binds as keys 0, 1…). */
        Client identifiedBy(String key) {
            return id != null && !id.isBlank() ? this
                    : new Client(key, secret, scopes, tokenTtl, audience, redirectUris, postLogoutRedirectUris);
        }

        /** Signs people in (authorization code) rather than calling as itself (client credentials). */
        boolean forPeople() {
            return !redirectUris.isEmpty();
        }
    }

    /**
     * A person who signs in at the embedded issuer.
     *
     * @param password hashed, with its encoder prefix ({@code {bcrypt}…}); plain text is refused at start
     * @param roles    console roles: viewer, operator, admin
     * @param name     the name the console shows (default the login name)
     */
    public record User(String password, List<String> roles, String name) {
        public User {
            roles = roles == null ? List.of() : List.copyOf(roles);
        }
    }
}
