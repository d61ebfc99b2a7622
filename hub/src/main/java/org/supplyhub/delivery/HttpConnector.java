package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import jakarta.annotation.PreDestroy;
import org.apache.hc.client5.http.classic.methods.HttpPost;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.CloseableHttpResponse;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpHeaders;
import org.apache.hc.core5.http.io.entity.ByteArrayEntity;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.util.Timeout;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * POSTs the payload with an {@code Idempotency-Key} header (the same on every retry). 2xx or 409
 * (already have it) → delivered; 408, 429 and 5xx or no answer → retry; other 4xx → dead, the
 * receiver will never take it. With an OAuth2 registration, each request carries its bearer token;
 * a 401/403 then is dead with the reason (see {@link OutboundTokens#refused}).
 * <p>
 * Apache HttpClient's classic API directly, not through Spring's RestClient: a POST of bytes whose
 * answer is only a status needs no message converters, and the RestClient layer (its builders,
 * header maps and MediaType parsing per request) cost ~4 of a stock send's ~24 µs CPU (SendCost).
 */
@Component
public class HttpConnector implements Connector {

    /** Connections kept per destination: more than its senders (hub.delivery.senders) ever use at once. */
    private static final int MAX_CONNECTIONS = 32;

    private final Map<String, CloseableHttpClient> clients = new ConcurrentHashMap<>();
    /** A payload's content type as the request's headers (a handful of distinct ones). */
    private final Map<String, Form> forms = new ConcurrentHashMap<>();
    private final OutboundTokens tokens;

    /** The body's content type, and the Accept and Prefer headers (null: none). */
    record Form(ContentType type, String accept, String prefer) { }

    public HttpConnector(OutboundTokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public String send(DestinationDefinition d, Payload payload) throws DeliveryException {
        String bearer = d.oauth2Registration() == null ? null : tokens.bearer(d);
        Form form = forms.computeIfAbsent(payload.contentType(), type -> new Form(ContentType.parse(type), null, null));
        int code = post(d, payload, form, bearer);
        if ((code >= 200 && code < 300) || code == 409) {
            return String.valueOf(code);
        }
        throw failed(d, code, bearer != null);
    }

    /**
     * POSTs the payload's body to the destination's URL and returns the answer's status. The answer's
     * body is read and dropped, so the connection goes back to the pool for the next send.
     *
     * @param bearer the OAuth2 access token, or null for none
     * @throws DeliveryException (retry, code {@code IO}) when there is no answer
     */
    int post(DestinationDefinition d, Payload payload, Form form, String bearer) throws DeliveryException {
        CloseableHttpClient client = clients.computeIfAbsent(d.name(), name -> client(d.timeout()));
        HttpPost post = new HttpPost(d.url());
        post.setHeader("Idempotency-Key", payload.idempotencyKey());
        if (form.accept() != null) {
            post.setHeader(HttpHeaders.ACCEPT, form.accept());
        }
        if (form.prefer() != null) {
            post.setHeader("Prefer", form.prefer());
        }
        if (bearer != null) {
            post.setHeader(HttpHeaders.AUTHORIZATION, "Bearer " + bearer);
        }
        post.setEntity(new ByteArrayEntity(payload.body(), form.type()));
        CloseableHttpResponse response;
        try {
            response = client.execute(post);
        } catch (IOException e) {
            throw new DeliveryException("no answer from " + d.url().getHost() + ": " + rootCause(e), "IO", false, e);
        }
        // The status is the answer, read before the body: a body that breaks off after a 201 must not turn
        // a delivered message into a retry (a resend to a receiver that ignores Idempotency-Key is a
        // second charge), nor a 400 into one. A body that cannot be read costs only its connection.
        int code = response.getCode();
        try (response) {
            EntityUtils.consume(response.getEntity()); // read to its end, so the connection can be reused
        } catch (IOException e) {
            // close() without a consumed body discards the connection instead of pooling it
        }
        return code;
    }

    /**
     * A status that is not delivered: 401/403 with a bearer token → refused (see
     * {@link OutboundTokens#refused}); 408, 429 and 5xx → retry; anything else → dead.
     */
    DeliveryException failed(DestinationDefinition d, int code, boolean withBearer) {
        if ((code == 401 || code == 403) && withBearer) {
            return tokens.refused(d, code, d.url().getHost());
        }
        boolean retry = code == 408 || code == 429 || code >= 500;
        return new DeliveryException("HTTP " + code + " from " + d.url().getHost(), String.valueOf(code), !retry, null);
    }

    /**
     * Apache HttpClient (classic: the sending thread does the I/O) with a connection pool per
     * destination. Its own retries and redirects are off: whether and when to try again is the
     * outbox's decision, and a redirected POST is not what the destination was configured for.
     * Content compression is off: the hub reads only the answer's status, so a compressed answer
     * would cost the receiver and the hub CPU for nothing.
     */
    private static CloseableHttpClient client(Duration timeout) {
        PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                .setMaxConnPerRoute(MAX_CONNECTIONS).setMaxConnTotal(MAX_CONNECTIONS)
                .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(Timeout.of(timeout))
                        .setSocketTimeout(Timeout.of(timeout)).build())
                .build();
        return HttpClients.custom().setConnectionManager(pool)
                .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(Timeout.of(timeout))
                        .setConnectionRequestTimeout(Timeout.of(timeout)).build())
                .disableAutomaticRetries().disableRedirectHandling().disableContentCompression().disableCookieManagement()
                .build();
    }

    @PreDestroy
    void close() {
        clients.values().forEach(client -> client.close(CloseMode.IMMEDIATE));
    }

    private static String rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName();
    }
}
