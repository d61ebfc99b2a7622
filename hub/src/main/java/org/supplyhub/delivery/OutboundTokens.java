package org.supplyhub.delivery;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.security.oauth2.client.AuthorizedClientServiceOAuth2AuthorizedClientManager;
import org.springframework.security.oauth2.client.ClientAuthorizationException;
import org.springframework.security.oauth2.client.InMemoryOAuth2AuthorizedClientService;
import org.springframework.security.oauth2.client.OAuth2AuthorizeRequest;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClient;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientProviderBuilder;
import org.springframework.security.oauth2.client.OAuth2AuthorizedClientService;
import org.springframework.security.oauth2.client.registration.ClientRegistrationRepository;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.stereotype.Component;
import org.springframework.web.client.HttpStatusCodeException;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.mapping.ConfigurationException;

import java.time.Duration;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Bearer tokens for destinations that name an OAuth2 client registration: fetched with
 * client_credentials, cached until shortly before they expire, then fetched again. Not bound to an
 * HTTP request (delivery runs on worker threads), hence the service-backed manager. Part of
 * delivery, not security: it serves the connectors and answers in {@link DeliveryException}s.
 */
@Component
public class OutboundTokens {

    private static final Logger log = LoggerFactory.getLogger(OutboundTokens.class);
    /** The principal the hub's own tokens are cached under. */
    private static final String HUB = "supply-hub";
    /** Token endpoint answers that no retry will change: the registration itself must be fixed. */
    private static final Set<String> FINAL_ERRORS = Set.of("invalid_client", "unauthorized_client", "invalid_scope",
            "invalid_grant", "unsupported_grant_type");

    private static final Pattern OAUTH2_ERROR = Pattern.compile("\"error\"\\s*:\\s*\"([A-Za-z_]+)\"");

    private final AuthorizedClientServiceOAuth2AuthorizedClientManager manager;
    private final OAuth2AuthorizedClientService cache;

    public OutboundTokens(ObjectProvider<ClientRegistrationRepository> registrations, InterfaceCatalog catalog) {
        ClientRegistrationRepository repository = registrations.getIfAvailable();
        for (DestinationDefinition d : catalog.destinations()) {
            if (d.oauth2Registration() == null) {
                continue;
            }
            var registration = repository == null ? null : repository.findByRegistrationId(d.oauth2Registration());
            if (registration == null) {
                throw new ConfigurationException(d.file() + ": destination '" + d.name() + "' names OAuth2 client registration '"
                        + d.oauth2Registration() + "', which spring.security.oauth2.client.registration does not define");
            }
            if (!AuthorizationGrantType.CLIENT_CREDENTIALS.equals(registration.getAuthorizationGrantType())) {
                throw new ConfigurationException("OAuth2 client registration '" + d.oauth2Registration()
                        + "' must use authorization-grant-type client_credentials");
            }
        }
        if (repository == null) {
            manager = null;
            cache = null;
            return;
        }
        cache = new InMemoryOAuth2AuthorizedClientService(repository);
        manager = new AuthorizedClientServiceOAuth2AuthorizedClientManager(repository, cache);
        // renew a little before expiry, so a token never runs out in flight
        manager.setAuthorizedClientProvider(OAuth2AuthorizedClientProviderBuilder.builder()
                .clientCredentials(c -> c.clockSkew(Duration.ofSeconds(30))).build());
    }

    /** The current access token for a registration; fetched only when none is cached or it is about to expire. */
    public String bearer(DestinationDefinition d) throws DeliveryException {
        try {
            OAuth2AuthorizedClient client = manager.authorize(OAuth2AuthorizeRequest
                    .withClientRegistrationId(d.oauth2Registration()).principal(HUB).build());
            if (client == null) {
                throw new DeliveryException("no token for OAuth2 registration " + d.oauth2Registration(), "TOKEN", true, null);
            }
            return client.getAccessToken().getTokenValue();
        } catch (ClientAuthorizationException e) {
            String code = e.getError().getErrorCode();
            boolean fatal = FINAL_ERRORS.contains(code);
            // a 401 from the token endpoint reaches us as an unparsed HTTP error: read its OAuth2 error
            HttpStatusCodeException http = causeOf(e, HttpStatusCodeException.class);
            if (http != null) {
                Matcher error = OAUTH2_ERROR.matcher(http.getResponseBodyAsString());
                int status = http.getStatusCode().value();
                code = error.find() ? error.group(1)
                        : status == 401 ? "HTTP 401: client id or secret refused" : "HTTP " + status;
                fatal = http.getStatusCode().is4xxClientError();
            }
            log.warn("Destination {}: the token endpoint of registration {} refused: {}", d.name(), d.oauth2Registration(), code);
            throw new DeliveryException("token request for OAuth2 registration " + d.oauth2Registration() + " refused ("
                    + code + ")" + (fatal ? ": fix the registration, then replay" : ""), "TOKEN", fatal, e);
        } catch (RuntimeException e) {
            // the issuer did not answer: passing trouble, like a receiver that is down
            throw new DeliveryException("token endpoint of OAuth2 registration " + d.oauth2Registration()
                    + " unreachable: " + e.getClass().getSimpleName(), "TOKEN", false, e);
        }
    }

    private static <T extends Throwable> T causeOf(Throwable e, Class<T> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return type.cast(t);
            }
        }
        return null;
    }

    /** A destination refused the token: forget it, so the next attempt (a replay) fetches a fresh one. */
    public void forget(DestinationDefinition d) {
        cache.removeAuthorizedClient(d.oauth2Registration(), HUB);
    }

    /**
     * A 401 or 403 from a destination: dead with the reason, not retried. A token that merely
     * expired is renewed before it is sent, so the refusal is about the client or its scopes,
     * which only a person can fix (then replay the message).
     */
    public DeliveryException refused(DestinationDefinition d, int status, String host) {
        forget(d);
        String why = status == 401 ? "refused the hub's credentials" : "refused: the token lacks the scope it needs";
        return new DeliveryException("HTTP " + status + " from " + host + ": " + why + " (OAuth2 registration "
                + d.oauth2Registration() + ")", String.valueOf(status), true, null);
    }
}
