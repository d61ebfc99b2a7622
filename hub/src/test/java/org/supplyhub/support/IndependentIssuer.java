package org.supplyhub.support;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.supplyhub.SupplyHubApplication;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;

/**
 * A second, independent OAuth2 issuer: another hub process-in-a-context with its own key, its own
 * issuer name and no interfaces. Its tokens are well-formed, scoped and addressed to the hub's
 * audience — and must still be refused by a hub that does not trust it.
 */
public final class IndependentIssuer implements AutoCloseable {

    public static final String CLIENT = "intruder";
    public static final String SECRET = "admin-demo-secret";
    // admin-demo-secret, hashed apart from the sample hub-admin's (the issuer refuses two clients with one hash)
    private static final String SECRET_HASH = "{bcrypt}$2a$10$uXM5wV5VeIv7uyKpA7nQze.kNVjilSEdab5Q4XY487AddXje8G3Te";

    private final ConfigurableApplicationContext context;
    public final String issuer;

    private IndependentIssuer(ConfigurableApplicationContext context, String issuer) {
        this.context = context;
        this.issuer = issuer;
    }

    /** An issuer whose name is its own URL, as OIDC discovery (issuer-uri) needs. */
    public static IndependentIssuer startDiscoverable(String... scopes) {
        int port = TestInterfaces.freePort();
        return start("http://127.0.0.1:" + port, port, scopes);
    }

    /** Its client {@value #CLIENT} may ask for any of {@code scopes}. */
    public static IndependentIssuer start(String issuer, String... scopes) {
        return start(issuer, 0, scopes);
    }

    private static IndependentIssuer start(String issuer, int port, String... scopes) {
        try {
            Map<String, Object> props = new HashMap<>();
            props.put("server.port", String.valueOf(port));
            props.put("spring.datasource.url", "jdbc:h2:mem:issuer-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
            props.put("hub.routes-dir", Files.createTempDirectory("no-routes").toString());
            props.put("hub.mappings-dir", TestInterfaces.projectRoot().resolve("mappings").toString());
            props.put("hub.delivery.enabled", "false");
            props.put("hub.security.issuer", issuer);
            props.put("hub.security.clients[0].id", CLIENT);
            props.put("hub.security.clients[0].secret", SECRET_HASH);
            props.put("hub.security.clients[0].scopes", String.join(",", scopes));
            // as arguments: they must win over application.yml, which default properties do not
            String[] args = props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new);
            ConfigurableApplicationContext context = new SpringApplicationBuilder(SupplyHubApplication.class).run(args);
            return new IndependentIssuer(context, issuer);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    public String token(String scope) {
        return Tokens.fetch(baseUrl(), CLIENT, SECRET, scope);
    }

    @Override
    public void close() {
        context.close();
    }
}
