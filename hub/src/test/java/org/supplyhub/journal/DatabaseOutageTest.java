package org.supplyhub.journal;

import org.supplyhub.support.JournalColumns;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TcpProxy;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The database goes away mid-stream (its connections are cut and new ones refused, through a proxy),
 * then comes back. Every control id that was answered AA must be in the journal; nothing answered
 * otherwise may have produced outbox rows; and intake recovers by itself.
 */
@SpringBootTest
@DirtiesContext
class DatabaseOutageTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static TcpProxy proxy;
    static Map<String, String> db;

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    JournalKeys keys;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        db = TestDatabases.postgres();
        URI uri = URI.create(db.get("spring.datasource.url").substring("jdbc:".length()));
        proxy = new TcpProxy(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort());
        String viaProxy = db.get("spring.datasource.url").replace(uri.getHost() + ":" + (uri.getPort() < 0 ? 5432 : uri.getPort()),
                "127.0.0.1:" + proxy.port());
        db.forEach((k, v) -> registry.add(k, () -> v));
        registry.add("spring.datasource.url", () -> viaProxy);
        registry.add("spring.datasource.hikari.connection-timeout", () -> "250");
        registry.add("spring.datasource.hikari.validation-timeout", () -> "250");
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    @AfterAll
    static void stopProxy() throws Exception {
        proxy.close();
    }

    @Test
    void nothingIsAcknowledgedThatIsNotStored() throws Exception {
        String template = Samples.read(Samples.MERCY);
        List<String> acked = new ArrayList<>();
        List<String> refused = new ArrayList<>();
        List<String> saidNotStored = new ArrayList<>();
        List<String> saidUnknown = new ArrayList<>();
        int port = INTERFACES.ports.get("mercy-or");
        Mllp mllp = new Mllp(port);
        for (int i = 0; i < 300; i++) {
            if (i == 100) {
                proxy.cut();
            }
            if (i == 130) {
                proxy.restore();
            }
            String controlId = "OUT" + i;
            String ack;
            try {
                ack = mllp.send(Samples.withControlId(template, controlId), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                ack = null;
            }
            if (ack == null) { // the hub closed the connection: no ACK, reconnect
                mllp.close();
                mllp = new Mllp(port);
                refused.add(controlId);
            } else if (ack.contains("\rMSA|AA|")) {
                acked.add(controlId);
            } else {
                refused.add(controlId);
                if (ack.contains("outcome is unknown")) {
                    saidUnknown.add(controlId);
                } else if (ack.contains("could not store the message")) {
                    saidNotStored.add(controlId);
                }
            }
        }
        mllp.close();

        // read the journal directly, not through the proxy
        Set<String> stored = new HashSet<>();
        Set<String> withOutbox = new HashSet<>();
        try (Connection c = DriverManager.getConnection(db.get("spring.datasource.url"),
                TestDatabases.postgresUser(), TestDatabases.postgresPassword())) {
            var rs = c.createStatement().executeQuery("select control_id from message where status = 'ACCEPTED'");
            while (rs.next()) {
                stored.add(rs.getString(1));
            }
            rs = c.createStatement().executeQuery(
                    "select distinct m.control_id from outbox o join message m on m.id = o.message_id");
            while (rs.next()) {
                withOutbox.add(rs.getString(1));
            }
        }
        System.out.printf("database outage: %d acknowledged AA, %d not (AE or closed)%n", acked.size(), refused.size());
        assertThat(stored).containsAll(acked);
        // "not stored" is said only when it is known: a commit cut off mid-way says the outcome is unknown
        assertThat(stored).as("answered 'not stored' but stored").doesNotContainAnyElementsOf(saidNotStored);
        System.out.printf("database outage: %d answered 'not stored', %d 'outcome unknown' (%d of them stored)%n",
                saidNotStored.size(), saidUnknown.size(), saidUnknown.stream().filter(stored::contains).count());
        assertThat(withOutbox).containsExactlyInAnyOrderElementsOf(stored);
        assertThat(refused).as("messages sent while the database was down were not acknowledged").isNotEmpty();
        assertThat(acked).as("intake recovered after the outage").contains("OUT299");
        assertThat(acked).contains("OUT0", "OUT99");

        // the senders resend what was not acknowledged: now every one is taken, once
        try (Mllp again = new Mllp(port)) {
            for (String id : refused) {
                String ack = again.send(Samples.withControlId(template, id), StandardCharsets.UTF_8);
                assertThat(ack).contains("\rMSA|AA|" + id);
                if (stored.contains(id)) { // stored although not acknowledged: answered from the store
                    assertThat(ack).isEqualTo(new JournalColumns(jdbc, keys).text(Column.MESSAGE_ACK,
                            "select ack from message where control_id = ?", id));
                }
            }
        }
        assertThat(jdbc.queryForObject("select count(distinct control_id) from message where status = 'ACCEPTED'"
                + " and control_id like 'OUT%'", Integer.class)).isEqualTo(300);
        assertThat(jdbc.queryForObject("select count(*) from message where control_id like 'OUT%'", Integer.class))
                .as("no message stored twice").isEqualTo(300);
    }
}
