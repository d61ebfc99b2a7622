package org.supplyhub.support;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.flywaydb.core.Flyway;

import java.util.Map;

/**
 * A fresh database with the hub's migrations applied, without Spring: PostgreSQL (its own schema, as
 * {@link TestDatabases} gives it) or in-memory H2. Close it to release its pool.
 */
public final class MigratedDatabase implements AutoCloseable {

    public final String kind;
    public final String url;
    public final String user;
    public final String password;
    public final HikariDataSource dataSource;

    private MigratedDatabase(String kind, Map<String, String> props) {
        this.kind = kind;
        this.url = props.get("spring.datasource.url");
        this.user = props.get("spring.datasource.username");
        this.password = props.get("spring.datasource.password");
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(8);
        this.dataSource = new HikariDataSource(config);
        var flyway = Flyway.configure().dataSource(dataSource).locations("classpath:db/migration");
        String schema = props.get("spring.flyway.schemas");
        if (schema != null) {
            flyway.schemas(schema).defaultSchema(schema);
        }
        flyway.load().migrate();
    }

    public static MigratedDatabase of(String kind) {
        return new MigratedDatabase(kind, kind.equals("postgres") ? TestDatabases.postgres() : TestDatabases.h2());
    }

    @Override
    public void close() {
        dataSource.close();
    }

    @Override
    public String toString() {
        return kind;
    }
}
