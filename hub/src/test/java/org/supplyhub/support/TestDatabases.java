package org.supplyhub.support;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.UUID;

/**
 * The databases tests run against. PostgreSQL comes from Testcontainers where Docker runs, else from
 * {@code HUB_TEST_POSTGRES_URL} (default the local server); if neither answers the test fails — a
 * missing PostgreSQL is never a silent skip. Each Spring context gets its own schema.
 */
public final class TestDatabases {

    private static PostgreSQLContainer container;

    private TestDatabases() {
    }

    /**
     * Spring properties for a fresh PostgreSQL schema, with the keys every node of a shared database must be
     * given (the hub generates none there): this test run's KEK and audit signing key ({@link TestKeys}).
     */
    public static Map<String, String> postgres() {
        Map<String, String> props = new java.util.HashMap<>(postgresOwnKek());
        props.put("hub.journal.encryption.key", "file:" + TestKeys.kek());
        return Map.copyOf(props);
    }

    /** As {@link #postgres()} without the KEK, for tests that give their own (rotation, wrong keys). */
    public static Map<String, String> postgresOwnKek() {
        String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String base = postgresBaseUrl();
        String url = base + (base.contains("?") ? "&" : "?") + "currentSchema=" + schema;
        return Map.of(
                "spring.datasource.url", url,
                "spring.datasource.username", postgresUser(),
                "spring.datasource.password", postgresPassword(),
                "spring.flyway.schemas", schema,
                "spring.flyway.default-schema", schema,
                "hub.audit.signing-key", "file:" + TestKeys.signingKey());
    }

    /** Spring properties for a fresh in-memory H2 database. */
    public static Map<String, String> h2() {
        return Map.of(
                "spring.datasource.url", "jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1",
                "spring.datasource.username", "sa",
                "spring.datasource.password", "");
    }

    public static synchronized String postgresBaseUrl() {
        if (container != null) {
            return container.getJdbcUrl();
        }
        String configured = System.getenv("HUB_TEST_POSTGRES_URL");
        if (configured == null && dockerAvailable()) {
            container = new PostgreSQLContainer("postgres:16-alpine");
            container.start();
            return container.getJdbcUrl();
        }
        String url = configured != null ? configured : "jdbc:postgresql://127.0.0.1:5432/test";
        try (Connection ignored = DriverManager.getConnection(url, postgresUser(), postgresPassword())) {
            return url;
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL is needed for this test and did not answer at " + url
                    + " (set HUB_TEST_POSTGRES_URL, or run Docker): " + e.getMessage(), e);
        }
    }

    public static String postgresUser() {
        return container != null ? container.getUsername()
                : System.getenv().getOrDefault("HUB_TEST_POSTGRES_USER", "postgres");
    }

    public static String postgresPassword() {
        return container != null ? container.getPassword()
                : System.getenv().getOrDefault("HUB_TEST_POSTGRES_PASSWORD", "");
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (RuntimeException | Error e) {
            return false;
        }
    }
}
