package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.support.Await;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A backlog drained by several workers at once on PostgreSQL (the destination's own route plus two
 * more threads): every row is delivered exactly once, and each account's rows in order. And an
 * account waiting on a retry, with more rows than a claim looks through first, holds up no other.
 */
@SpringBootTest
@DirtiesContext
class ConcurrentDrainTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final int ROWS = 5000;
    static final int ACCOUNTS = 40;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    DeliveryWorker worker;

    @Autowired
    RunningConfig catalog;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    /** The Mercy sample, accepted once; the outbox rows below borrow its usage. */
    synchronized long sampleMessage() throws Exception {
        List<Long> ids = jdbc.queryForList("select id from message where control_id = 'OR20261114093512001'", Long.class);
        if (!ids.isEmpty()) {
            return ids.get(0);
        }
        try (Mllp mllp = new Mllp(INTERFACES.ports.get("mercy-or"))) {
            assertThat(mllp.send(Samples.read(Samples.MERCY), StandardCharsets.UTF_8)).contains("MSA|AA");
        }
        return jdbc.queryForObject("select id from message where control_id = 'OR20261114093512001'", Long.class);
    }

    @Test
    void everyRowOnceAndEachAccountInOrder() throws Exception {
        long messageId = sampleMessage();
        Timestamp now = Timestamp.from(Instant.now());
        List<Object[]> rows = new ArrayList<>();
        for (int i = 0; i < ROWS; i++) {
            rows.add(new Object[] {messageId, "mercy-inventory", "acct-" + (i % ACCOUNTS), now, now});
        }
        jdbc.batchUpdate("insert into outbox (message_id, destination, ordering_key, status, attempts, created_at,"
                + " next_attempt_at) values (?, ?, ?, 'PENDING', 0, ?, ?)", rows);

        DestinationDefinition inventory = catalog.destination("mercy-inventory");
        ExecutorService pool = Executors.newFixedThreadPool(2);
        List<Future<Integer>> workers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            workers.add(pool.submit(() -> {
                int total = 0;
                int idle = 0;
                while (idle < 20) {
                    int n = worker.poll(inventory);
                    total += n;
                    idle = n == 0 ? idle + 1 : 0;
                    if (n == 0) {
                        Thread.sleep(20);
                    }
                }
                return total;
            }));
        }
        for (Future<Integer> f : workers) {
            f.get();
        }
        pool.shutdown();

        assertThat(jdbc.queryForObject("select count(*) from outbox where ordering_key like 'acct-%'"
                + " and status = 'DELIVERED'", Integer.class)).isEqualTo(ROWS);
        assertThat(jdbc.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.ordering_key like 'acct-%'", Integer.class)).as("one attempt per row: none sent twice")
                .isEqualTo(ROWS);
        // per account, the order of attempts is the order of the rows
        List<Map<String, Object>> order = jdbc.queryForList("select o.ordering_key, o.id from delivery_attempt a"
                + " join outbox o on o.id = a.outbox_id where o.ordering_key like 'acct-%' order by a.id");
        Map<Object, Long> last = new java.util.HashMap<>();
        for (Map<String, Object> row : order) {
            long id = ((Number) row.get("id")).longValue();
            Long previous = last.put(row.get("ordering_key"), id);
            assertThat(previous == null || previous < id).as("account %s out of order", row.get("ordering_key")).isTrue();
        }
    }

    @Test
    void anAccountWaitingOnARetryHoldsUpNoOther() throws Exception {
        long messageId = sampleMessage();
        DestinationDefinition inventory = catalog.destination("mercy-inventory");
        Timestamp now = Timestamp.from(Instant.now());
        Timestamp later = Timestamp.from(Instant.now().plusSeconds(3600));
        List<Object[]> rows = new ArrayList<>();
        int stuck = inventory.batchSize() * 12; // more than the window of oldest rows a claim looks through
        for (int i = 0; i < stuck; i++) {
            rows.add(new Object[] {messageId, "mercy-inventory", "stuck", now, i == 0 ? later : now});
        }
        for (int i = 0; i < 10; i++) {
            rows.add(new Object[] {messageId, "mercy-inventory", "other-" + i, now, now});
        }
        jdbc.batchUpdate("insert into outbox (message_id, destination, ordering_key, status, attempts, created_at,"
                + " next_attempt_at) values (?, ?, ?, 'PENDING', 0, ?, ?)", rows);

        Await.until(() -> jdbc.queryForObject("select count(*) from outbox where ordering_key like 'other-%'"
                + " and status = 'DELIVERED'", Integer.class) == 10);
        assertThat(jdbc.queryForObject("select count(*) from outbox where ordering_key = 'stuck' and status = 'PENDING'"
                + " and attempts = 0", Integer.class)).as("the waiting account's rows stay queued behind its head")
                .isEqualTo(stuck);
    }
}
