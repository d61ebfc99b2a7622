package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import jakarta.annotation.PreDestroy;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.client.HttpComponentsClientHttpRequestFactory;
import org.springframework.stereotype.Component;
import org.springframework.web.client.ResourceAccessException;
import org.springframework.web.client.RestClient;

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

    /** Connections kept per destination: more than its senders (hub.delivery.senders) ever use at once. */
    private static final int MAX_CONNECTIONS = 32;

    /** A destination's pooled client and the RestClient over it. */
    private record Client(CloseableHttpClient http, RestClient rest) { }

    private final Map<String, Client> clients = new ConcurrentHashMap<>();
    private final OutboundTokens tokens;

    public HttpConnector(OutboundTokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public String send(DestinationDefinition d, Payload payload) throws DeliveryException {
        RestClient client = clients.computeIfAbsent(d.name(), name -> client(d.timeout())).rest();
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

    /**
     * Apache HttpClient (classic: the sending thread does the I/O) with a connection pool per
     * destination. Its own retries and redirects are off: whether and when to try again is the
     * outbox's decision, and a redirected POST is not what the destination was configured for.
     */
    private static Client client(Duration timeout) {
        PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnPerRoute(MAX_CONNECTIONS).setMaxConnTotal(MAX_CONNECTIONS)
                .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(Timeout.of(timeout))
                        .setSocketTimeout(Timeout.of(timeout)).build())
                .build();
        CloseableHttpClient http = HttpClients.custom().setConnectionManager(pool)
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(Timeout.of(timeout))
                        .setConnectionRequestTimeout(Timeout.of(timeout)).build())
                .disableAutomaticRetries().disableRedirectHandling().build();
        return new Client(http,
                RestClient.builder().requestFactory(new HttpComponentsClientHttpRequestFactory(http)).build());
    }

    @PreDestroy
    void close() {
        clients.values().forEach(client -> client.http().close(CloseMode.IMMEDIATE));
    }

    private static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName();
    }
}
