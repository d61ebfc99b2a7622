package org.supplyhub.support;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Access tokens from a running hub's embedded issuer, over HTTP like any client gets them. */
public final class Tokens {

    /** The sample clients in application.yml and their demo secrets. */
    public static final String MERCY = "mercy-ormgr";
    public static final String LAKESIDE = "lakeside-cathlab";
    public static final String ADMIN = "hub-admin";
    private static final Map<String, String> SECRETS = Map.of(
            MERCY, "mercy-demo-secret", LAKESIDE, "lakeside-demo-secret", ADMIN, "admin-demo-secret");

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Map<String, String> CACHE = new ConcurrentHashMap<>();

    private Tokens() { }

    /** A cached token for a sample client (tokens live 15 minutes; a test run is shorter). */
    public static String sample(int port, String clientId, String scope) {
        return CACHE.computeIfAbsent(port + "|" + clientId + "|" + scope,
                k -> fetch("http://127.0.0.1:" + port, clientId, SECRETS.get(clientId), scope));
    }

    public static String fetch(String issuerBase, String clientId, String secret, String scope) {
        HttpResponse<String> response = request(issuerBase, clientId, secret, scope);
        if (response.statusCode() != 200) {
            throw new IllegalStateException("token request for " + clientId + " got " + response.statusCode() + ": "
                    + response.body());
        }
        try {
            JsonNode body = new ObjectMapper().readTree(response.body());
            return body.get("access_token").asText();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    public static HttpResponse<String> request(String issuerBase, String clientId, String secret, String scope) {
        return requestAt(issuerBase + "/oauth2/token", clientId, secret, scope);
    }

    /** A client_credentials request to a token endpoint URL given as it goes on the wire. */
    public static HttpResponse<String> requestAt(String tokenUrl, String clientId, String secret, String scope) {
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + secret).getBytes(StandardCharsets.UTF_8));
        String form = "grant_type=client_credentials" + (scope == null ? "" : "&scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(URI.create(tokenUrl))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build();
        try {
            return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
