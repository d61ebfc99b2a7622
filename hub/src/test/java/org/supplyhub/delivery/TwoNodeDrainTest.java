package org.supplyhub.delivery;

import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.supplyhub.SupplyHubApplication;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.supplyhub.delivery.FileDeliveryTest.await;

/**
 * Two hub nodes (two application contexts) on one PostgreSQL drain a backlog of 5,000 rows, 100 of
 * which a third node leased and then died holding: every row is delivered exactly once, the dead
 * node's rows only after their lease ran out, and each account's rows in order.
 */
class TwoNodeDrainTest {

    static final int ROWS = 5000;
    static final int ACCOUNTS = 50;

    @Test
    void backlogDrainedOnceInOrderIncludingADeadNodesLeases() throws Exception {
        Map<String, String> db = TestDatabases.postgres();
        TestInterfaces a = TestInterfaces.copyOfShipped();
        TestInterfaces b = TestInterfaces.copyOfShipped();
        try (ConfigurableApplicationContext nodeA = start(db, a, false)) {
            JdbcTemplate jdbc = nodeA.getBean(JdbcTemplate.class);
            try (Mllp mllp = new Mllp(a.ports.get("mercy-or"))) {
                assertThat(mllp.send(Samples.read(Samples.MERCY), StandardCharsets.UTF_8)).contains("MSA|AA");
            }
            long messageId = jdbc.queryForObject("select id from message where control_id = 'OR20261114093512001'",
                    Long.class);
            Timestamp now = Timestamp.from(Instant.now());
            Timestamp deadNodeLease = Timestamp.from(Instant.now().plusSeconds(3));
            List<Object[]> rows = new ArrayList<>();
            for (int i = 0; i < ROWS; i++) {
                // the first row of the first 100 accounts… is held by a node that died mid-send
                boolean leased = i < 100 && i < ACCOUNTS;
                rows.add(new Object[] {messageId, "acct-" + (i % ACCOUNTS), leased ? 1 : 0, now, now,
                        leased ? deadNodeLease : null});
            }
            jdbc.batchUpdate("insert into outbox (message_id, destination, ordering_key, status, attempts, created_at,"
                    + " next_attempt_at, lease_until) values (?, 'mercy-inventory', ?, 'PENDING', ?, ?, ?, ?)", rows);

            try (ConfigurableApplicationContext nodeB = start(db, b, true)) {
                await(() -> jdbc.queryForObject("select count(*) from outbox where ordering_key like 'acct-%'"
                        + " and status = 'DELIVERED'", Integer.class) == ROWS, 120);
            }
            assertThat(jdbc.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                    + " where o.ordering_key like 'acct-%' and a.outcome <> 'LOST'", Integer.class)).as("none sent twice")
                    .isEqualTo(ROWS);
            assertThat(jdbc.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                    + " where o.ordering_key like 'acct-%' and a.outcome = 'LOST'", Integer.class))
                    .as("the dead node's attempts are journaled as lost").isEqualTo(Math.min(100, ACCOUNTS));
            assertThat(jdbc.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                    + " where o.ordering_key like 'acct-%' and a.outcome <> 'LOST' and a.started_at < ?", Integer.class,
                    deadNodeLease))
                    .as("nothing of an account whose head was leased went out before the lease ran out")
                    .isZero();
            Map<Object, Long> last = new HashMap<>();
            for (Map<String, Object> row : jdbc.queryForList("select o.ordering_key, o.id from delivery_attempt a"
                    + " join outbox o on o.id = a.outbox_id where o.ordering_key like 'acct-%' and a.outcome <> 'LOST'"
                    + " order by a.id")) {
                long id = ((Number) row.get("id")).longValue();
                Long previous = last.put(row.get("ordering_key"), id);
                assertThat(previous == null || previous < id).as("account %s out of order", row.get("ordering_key")).isTrue();
            }
        }
    }

    static ConfigurableApplicationContext start(Map<String, String> db, TestInterfaces interfaces, boolean second) {
        Map<String, String> props = new HashMap<>(db);
        props.putAll(interfaces.properties());
        props.put("server.port", "0");
        props.put("spring.jmx.enabled", "false");
        props.put("camel.main.name", second ? "node-b" : "node-a");
        // as command-line arguments: they outrank application.yml, as in production
        return new SpringApplicationBuilder(SupplyHubApplication.class)
                .run(props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
    }
}
