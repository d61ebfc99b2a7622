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

        /**
         * One settle of mixed outcomes (PostgreSQL: one statement over arrays; H2: batches) writes each row's
         * status, times and error as its outcome says, journals exactly the attempts it still owned, with
         * their times to the microsecond, and counts the one a later claim took over as stale.
         */
        @Test
        void aSettleWritesEachOutcomeAndLeavesRowsItNoLongerOwns() {
            long message = accept("SETTLE-MIX");
            String d = "settle-mix";
            row(message, d, "s1");
            row(message, d, "s2");
            row(message, d, "s3");
            row(message, d, "s4");
            List<OutboxRepository.Claimed> rows = outbox.claimDue(d, 10, Duration.ofMinutes(1)).rows();
            assertThat(rows).hasSize(4);
            // the fourth row's lease ran out and another claim took it: its attempts went up
            jdbc.update("update outbox set attempts = attempts + 1 where id = ?", rows.get(3).id());
            // a file destination's code is its file name: a destination name may have 100 characters (V17)
            String fileName = "d".repeat(100) + "-123456789.json";
            Instant started = Instant.parse("2026-11-29T10:15:30.123456Z"); // a clock with microseconds: all of them kept
            Instant retryAt = Instant.parse("2026-11-29T11:00:00.456789Z");
            int stale = outbox.settle(List.of(
                    OutboxRepository.Settlement.delivered(rows.get(0), started, 7, fileName),
                    new OutboxRepository.Settlement(rows.get(1), started, 8, OutboxRepository.Outcome.RETRY, "503",
                            "busy", retryAt),
                    new OutboxRepository.Settlement(rows.get(2), started, 9, OutboxRepository.Outcome.DEAD, null,
                            "refused: it's \"bad\" ünïcode", null),
                    OutboxRepository.Settlement.delivered(rows.get(3), started, 10, "LATE")));
            assertThat(stale).isEqualTo(1);

            Map<String, Object> delivered = jdbc.queryForMap("select * from outbox where id = ?", rows.get(0).id());
            assertThat(delivered).containsEntry("status", "DELIVERED").containsEntry("last_error", null)
                    .containsEntry("lease_until", null);
            assertThat(delivered.get("delivered_at")).isNotNull();
            Map<String, Object> retry = jdbc.queryForMap("select * from outbox where id = ?", rows.get(1).id());
            assertThat(retry).containsEntry("status", "PENDING").containsEntry("last_error", "busy")
                    .containsEntry("lease_until", null).containsEntry("delivered_at", null);
            assertThat(instant(retry.get("next_attempt_at"))).isEqualTo(retryAt);
            Map<String, Object> dead = jdbc.queryForMap("select * from outbox where id = ?", rows.get(2).id());
            assertThat(dead).containsEntry("status", "DEAD").containsEntry("last_error", "refused: it's \"bad\" ünïcode")
                    .containsEntry("delivered_at", null);
            Map<String, Object> taken = jdbc.queryForMap("select * from outbox where id = ?", rows.get(3).id());
            assertThat(taken).containsEntry("status", "PENDING").containsEntry("delivered_at", null);
            assertThat(taken.get("lease_until")).as("still leased by the claim that owns it now").isNotNull();

            List<Map<String, Object>> attempts = jdbc.queryForList("select outbox_id, attempt, started_at, duration_ms,"
                    + " outcome, code, detail from delivery_attempt where outbox_id in (?, ?, ?, ?) order by id",
                    rows.get(0).id(), rows.get(1).id(), rows.get(2).id(), rows.get(3).id());
            assertThat(attempts).extracting(a -> ((Number) a.get("outbox_id")).longValue())
                    .containsExactly(rows.get(0).id(), rows.get(1).id(), rows.get(2).id());
            assertThat(attempts).extracting(a -> a.get("outcome")).containsExactly("DELIVERED", "RETRY", "DEAD");
            assertThat(attempts).extracting(a -> a.get("code")).containsExactly(fileName, "503", null);
            assertThat(attempts).extracting(a -> ((Number) a.get("duration_ms")).longValue()).containsExactly(7L, 8L, 9L);
            assertThat(attempts).extracting(a -> ((Number) a.get("attempt")).intValue()).containsOnly(1);
            assertThat(attempts).extracting(a -> instant(a.get("started_at"))).containsOnly(started);
            assertThat(attempts.get(2).get("detail")).isEqualTo("refused: it's \"bad\" ünïcode");
        }

        static Instant instant(Object value) {
            if (value instanceof java.sql.Timestamp t) {
                return t.toInstant();
            }
            return ((java.time.OffsetDateTime) value).toInstant();
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
