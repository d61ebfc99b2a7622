package org.supplyhub.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpMethod;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.springframework.web.filter.OncePerRequestFilter;
import org.supplyhub.journal.AuditLog;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

/**
 * Defends {@code POST /oauth2/token}: every failed client authentication is audited
 * ({@code TOKEN_REFUSED}); failures are counted per client id and per source address in fixed
 * windows, and once either count is reached the endpoint answers 429 (problem JSON, Retry-After)
 * without checking the secret — the right secret included — until the window ends. A refusal of an
 * unknown client id runs a bcrypt check against a dummy hash, so it costs what a known client's
 * costs and client ids cannot be told apart by timing.
 */
final class TokenEndpointGuard extends OncePerRequestFilter {

    private static final Pattern PRINTABLE_ID = Pattern.compile("[\\x21-\\x7E]{1,100}");

    private final RegisteredClientRepository clients;
    private final AuditLog audit;
    private final ObjectMapper json;
    private final SecurityProperties.TokenEndpoint limits;
    private final Cache<String, Window> failures;
    private final Ticker ticker;
    private final BCryptPasswordEncoder bcrypt = new BCryptPasswordEncoder(10);
    private final String dummyHash;

    /** Failures since {@code startedNanos}; the cache forgets a window when it ends. */
    private record Window(long startedNanos, AtomicInteger count) { }

    TokenEndpointGuard(RegisteredClientRepository clients, AuditLog audit, ObjectMapper json,
                       SecurityProperties.TokenEndpoint limits, Ticker ticker) {
        this.clients = clients;
        this.audit = audit;
        this.json = json;
        this.limits = limits;
        this.ticker = ticker;
        this.failures = Caffeine.newBuilder().ticker(ticker).maximumSize(100_000)
                .expireAfterWrite(limits.window()).build();
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        this.dummyHash = bcrypt.encode(HexFormat.of().formatHex(random));
    }

    /**
     * The token endpoint as the issuer chain matches it: on the decoded path, so that
     * {@code /oauth2/%74oken}, which the authorization server serves, cannot slip past the guard.
     */
    private static final RequestMatcher TOKEN_ENDPOINT =
            PathPatternRequestMatcher.withDefaults().matcher(HttpMethod.POST, "/oauth2/token");

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !TOKEN_ENDPOINT.matches(request);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        Credentials claimed = Credentials.of(request);
        String address = request.getRemoteAddr();
        long retryAfter = Math.max(blockedFor("addr:" + address, limits.maxFailuresPerAddress()),
                claimed.clientId() == null ? 0 : blockedFor("client:" + claimed.clientId(), limits.maxFailuresPerClient()));
        if (retryAfter > 0) {
            audit.record(AuditLog.anonymous(address), "TOKEN_REFUSED", null, "POST /oauth2/token", "429",
                    "throttled" + claimed.describe());
            tooMany(response, retryAfter);
            return;
        }
        if (claimed.clientId() == null || clients.findByClientId(claimed.clientId()) == null) {
            // what checking a known client's secret costs: one bcrypt check (before the answer is written)
            bcrypt.matches(claimed.secret() == null ? "" : claimed.secret(), dummyHash);
        }
        chain.doFilter(request, response);
        if (response.getStatus() == HttpServletResponse.SC_UNAUTHORIZED) {
            count("addr:" + address);
            if (claimed.clientId() != null) {
                count("client:" + claimed.clientId());
            }
            audit.record(AuditLog.anonymous(address), "TOKEN_REFUSED", null, "POST /oauth2/token", "401",
                    "client authentication failed" + claimed.describe());
        }
    }

    private void count(String key) {
        failures.get(key, k -> new Window(ticker.read(), new AtomicInteger())).count().incrementAndGet();
    }

    /** Seconds until the key's window ends, if its failures reached the limit; else 0. */
    private long blockedFor(String key, int max) {
        Window w = failures.getIfPresent(key);
        if (w == null || w.count().get() < max) {
            return 0;
        }
        long left = limits.window().toNanos() - (ticker.read() - w.startedNanos());
        return Math.max(1, TimeUnit.NANOSECONDS.toSeconds(left) + 1);
    }

    private void tooMany(HttpServletResponse response, long retryAfterSeconds) throws IOException {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.TOO_MANY_REQUESTS,
                "Too many failed client authentications from this client or address; try again in "
                        + retryAfterSeconds + " s.");
        problem.setTitle("Too Many Requests");
        problem.setType(URI.create("https://supply-hub.org/problems/429"));
        response.setStatus(HttpStatus.TOO_MANY_REQUESTS.value());
        response.setHeader(HttpHeaders.RETRY_AFTER, String.valueOf(retryAfterSeconds));
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        json.writeValue(response.getOutputStream(), problem);
    }

    /** The client id and secret a request presents (Basic header, else form), unchecked. */
    record Credentials(String clientId, String secret) {

        static Credentials of(HttpServletRequest request) {
            String header = request.getHeader(HttpHeaders.AUTHORIZATION);
            if (header != null && header.regionMatches(true, 0, "Basic ", 0, 6)) {
                try {
                    String pair = new String(Base64.getDecoder().decode(header.substring(6).trim()), StandardCharsets.UTF_8);
                    int colon = pair.indexOf(':');
                    if (colon > 0) {
                        return new Credentials(decode(pair.substring(0, colon)), decode(pair.substring(colon + 1)));
                    }
                } catch (IllegalArgumentException e) {
                    return new Credentials(null, null);
                }
            }
            return new Credentials(request.getParameter("client_id"), request.getParameter("client_secret"));
        }

        private static String decode(String s) {
            return java.net.URLDecoder.decode(s, StandardCharsets.UTF_8);
        }

        /** The claimed id for the audit row, if it looks like an id (never the secret). */
        String describe() {
            return clientId != null && PRINTABLE_ID.matcher(clientId).matches() ? " (claimed client id " + clientId + ")" : "";
        }
    }

}
