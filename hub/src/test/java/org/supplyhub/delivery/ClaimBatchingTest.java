package org.supplyhub.delivery;

import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A claim tells its worker whether more rows are due at once: yes when it was full or when rows of
 * the accounts it took wait behind them (a backlog: drain back to back), no when it took every
 * pending row (the next rows are intake's new ones: let them gather until the next tick).
 */
class ClaimBatchingTest {

    abstract static class Scenarios {

        @Autowired
        JdbcTemplate jdbc;

        @Autowired
        IntakeService intake;

        @Autowired
        RunningConfig catalog;

        @Autowired
        OutboxRepository outbox;

        @Test
        void aClaimThatTookEveryPendingRowAsksForNoMore() {
            long message = accept("BATCH-ALL");
            String d = "batch-all";
            row(message, d, "a1");
            row(message, d, "a2");
            row(message, d, "a3");
            OutboxRepository.Claim claim = outbox.claimDue(d, 10, Duration.ofMinutes(1));
            assertThat(claim.rows()).hasSize(3);
            assertThat(claim.more()).isFalse();
        }

        @Test
        void aFullClaimOrRowsQueuedBehindItsAccountsAskForMore() {
            long message = accept("BATCH-MORE");
            String d = "batch-more";
            row(message, d, "b1");
            row(message, d, "b1"); // queued behind the first of b1
            row(message, d, "b2");
            OutboxRepository.Claim claim = outbox.claimDue(d, 10, Duration.ofMinutes(1));
            assertThat(claim.rows()).extracting(OutboxRepository.Claimed::orderingKey).containsExactly("b1", "b2");
            assertThat(claim.more()).isTrue();
            outbox.settle(claim.rows().stream()
                    .map(r -> OutboxRepository.Settlement.delivered(r, Instant.now(), 1, "ok")).toList());

            OutboxRepository.Claim next = outbox.claimDue(d, 10, Duration.ofMinutes(1));
            assertThat(next.rows()).extracting(OutboxRepository.Claimed::orderingKey).containsExactly("b1");
            assertThat(next.more()).isFalse();

            String full = "batch-full";
            row(message, full, "c1");
            row(message, full, "c2");
            OutboxRepository.Claim one = outbox.claimDue(full, 1, Duration.ofMinutes(1));
            assertThat(one.rows()).hasSize(1);
            assertThat(one.more()).isTrue();
        }

        void row(long message, String destination, String account) {
            // a destination no worker polls, so the test alone claims it
            jdbc.update("insert into outbox (message_id, destination, ordering_key, status, attempts, created_at,"
                    + " next_attempt_at) values (?, ?, ?, 'PENDING', 0, current_timestamp, current_timestamp)",
                    message, destination, account);
        }

        long accept(String controlId) {
            String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId)
                    .replace("ACCT90017733", "ACCT-" + controlId).replace("TX-88120-", "TX-" + controlId + "-");
            assertThat(intake.receive(catalog.get("mercy-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test")
                    .ackCode()).isEqualTo("AA");
            return jdbc.queryForObject("select id from message where control_id = ?", Long.class, controlId);
        }

        static void register(DynamicPropertyRegistry registry, Map<String, String> db) {
            TestInterfaces interfaces = TestInterfaces.copyOfShipped();
            db.forEach((k, v) -> registry.add(k, () -> v));
            interfaces.properties().forEach((k, v) -> registry.add(k, () -> v));
            registry.add("hub.delivery.enabled", () -> "false");
        }
    }

    @Nested
    @SpringBootTest
    @DirtiesContext
    class OnPostgres extends Scenarios {

        @DynamicPropertySource
        static void properties(DynamicPropertyRegistry registry) {
            register(registry, TestDatabases.postgres());
        }
    }

    @Nested
    @SpringBootTest
    @DirtiesContext
    class OnH2 extends Scenarios {

        @DynamicPropertySource
        static void properties(DynamicPropertyRegistry registry) {
            register(registry, TestDatabases.h2());
        }
    }
}
