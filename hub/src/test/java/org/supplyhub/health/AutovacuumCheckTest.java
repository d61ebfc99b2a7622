package org.supplyhub.health;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.supplyhub.support.TestDatabases;

import java.sql.Connection;
import java.sql.ResultSet;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The start-up warning says what the server's setting says, and only on PostgreSQL. */
class AutovacuumCheckTest {

    @Test
    void warnsExactlyWhenPostgresRunsWithoutAutovacuumOrItsCounts() throws Exception {
        DriverManagerDataSource postgres = dataSource(TestDatabases.postgres());
        boolean off;
        try (Connection c = postgres.getConnection(); ResultSet rs = c.createStatement().executeQuery("show autovacuum")) {
            rs.next();
            off = "off".equals(rs.getString(1));
        }
        try (Connection c = postgres.getConnection(); ResultSet rs = c.createStatement().executeQuery("show track_counts")) {
            rs.next();
            off |= "off".equals(rs.getString(1));
        }
        // the local test server runs without it (this test then checks the warning), a container with it
        assertThat(AutovacuumCheck.warning(postgres)).isEqualTo(off ? AutovacuumCheck.WARNING : null);
    }

    @Test
    void saysNothingOnH2OrWhenTheDatabaseIsAway() {
        assertThat(AutovacuumCheck.warning(dataSource(TestDatabases.h2()))).isNull();
        assertThat(AutovacuumCheck.warning(new DriverManagerDataSource("jdbc:postgresql://127.0.0.1:1/none", "x", "x"))).isNull();
    }

    static DriverManagerDataSource dataSource(Map<String, String> props) {
        return new DriverManagerDataSource(props.get("spring.datasource.url"), props.get("spring.datasource.username"),
                props.get("spring.datasource.password"));
    }
}
