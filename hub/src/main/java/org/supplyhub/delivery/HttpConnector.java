package org.supplyhub.delivery;

import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.client.JdkClientHttpRequestFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;
import org.supplyhub.security.OutboundTokens;

import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * POSTs the payload with an {@code Idempotency-Key} header (the same on every retry). 2xx or 409
 * (already have it) → delivered; 408, 429 and 5xx or no answer → retry; other 4xx → dead, the
 * receiver will never take it. With an OAuth2 registration, each request carries its bearer token;
 * a 401/403 then is dead with the reason (see {@link OutboundTokens#refused}).
 */
@Component
public class HttpConnector implements Connector {

    private final Map<String, RestClient> clients = new ConcurrentHashMap<>();
    private final OutboundTokens tokens;

    public HttpConnector(OutboundTokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public String send(DestinationDefinition d, Payload payload) throws DeliveryException {
        RestClient client = clients.computeIfAbsent(d.name(), name -> client(d.timeout()));
        String bearer = d.oauth2Registration() == null ? null : tokens.bearer(d);
        try {
            HttpStatusCode status = client.post().uri(d.url())
                    .contentType(MediaType.parseMediaType(payload.contentType()))
                    .header("Idempotency-Key", payload.idempotencyKey())
                    .headers(h -> {
                        if (bearer != null) {
                            h.setBearerAuth(bearer);
                        }
                    })
                    .body(payload.body())
                    .exchange((request, response) -> response.getStatusCode());
            int code = status.value();
            if (status.is2xxSuccessful() || code == 409) {
                return String.valueOf(code);
            }
            if ((code == 401 || code == 403) && bearer != null) {
                throw tokens.refused(d, code, d.url().getHost());
            }
            boolean retry = code == 408 || code == 429 || status.is5xxServerError();
            throw new DeliveryException("HTTP " + code + " from " + d.url().getHost(), String.valueOf(code), !retry, null);
        } catch (ResourceAccessException e) {
            throw new DeliveryException("no answer from " + d.url().getHost() + ": " + rootCause(e), "IO", false, e);
        }
    }

    private static RestClient client(Duration timeout) {
        JdkClientHttpRequestFactory factory = new JdkClientHttpRequestFactory(
                HttpClient.newBuilder().connectTimeout(timeout).build());
        factory.setReadTimeout(timeout);
        return RestClient.builder().requestFactory(factory).build();
    }

    private static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName();
    }
}
