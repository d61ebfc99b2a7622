package org.supplyhub.retention;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.admin.MessageQueries;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.journal.Journal;
import org.supplyhub.journal.crypto.Aead;
import org.supplyhub.journal.MessageStatus;
import org.supplyhub.journal.ReceivedMessage;
import org.supplyhub.support.Await;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The embedded default (H2) with the purge on its schedule: the purge's SQL runs on H2 too, and the
 * cron trigger starts it without anyone asking.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class RetentionH2Test {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();

    @Autowired
    Journal journal;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    IntakeService intake;
    @Autowired
    MessageQueries messages;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        TestDatabases.h2().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.config.watch", () -> "false");
        registry.add("hub.retention.schedule", () -> "* * * * * *"); // every second
    }

    @Test
    void theScheduledPurgeTakesOldContentThatOwesNothingAndLeavesWhatIsOwed() throws Exception {
        Instant old = Instant.now().minus(Duration.ofDays(91));
        long done = journal.accept(entry(old, List.of()));
        long owed = journal.accept(entry(old, List.of("parked-nowhere")));
        long recent = journal.accept(entry(Instant.now().minus(Duration.ofDays(89)), List.of()));
        Await.until(() -> jdbc.queryForObject("select count(*) from message where id = ? and purged_at is not null",
                Integer.class, done) == 1, 30);
        assertThat(new String(jdbc.queryForObject("select raw from message where id = ?", byte[].class, done),
                StandardCharsets.US_ASCII)).isEqualTo(RetentionPurge.TOMBSTONE);
        assertThat(jdbc.queryForObject("select count(*) from message where id in (?, ?) and purged_at is null"
                + " and usage_json is not null", Integer.class, owed, recent)).isEqualTo(2);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'RETENTION_PURGE'",
                Integer.class)).isPositive();

        // encrypted like the product (the tests' default): what is owed is sealed, and reads back clear
        assertThat(Aead.isSealed(jdbc.queryForObject("select raw from message where id = ?", byte[].class, owed))).isTrue();
        assertThat(messages.usage(owed)).contains("{\"lines\":[]}");
        assertThat(journal.find(owed)).hasValueSatisfying(m -> {
            assertThat(m.purged()).isFalse();
            assertThat(new String(m.raw(), StandardCharsets.UTF_8)).startsWith("MSH|");
        });
        // the tombstone is never taken for a sealed value, nor for a message to map again
        assertThat(journal.find(done)).hasValueSatisfying(m -> assertThat(m.purged()).isTrue());
        assertThat(messages.usage(done)).isEmpty();
        assertThat(messages.outputs(done)).isEmpty();
        IntakeService.Reprocessed again = intake.reprocess(done);
        assertThat(again.outcome()).isEqualTo(IntakeService.Reprocessed.Outcome.CONFLICT);
        assertThat(again.detail()).contains("was purged by retention");
    }

    static Journal.Entry entry(Instant receivedAt, List<String> destinations) {
        String controlId = "H" + UUID.randomUUID().toString().substring(0, 12);
        ReceivedMessage m = ReceivedMessage.received("mercy-or", receivedAt, "test", "UTF-8",
                        ("MSH|^~\\&|T|T|H|H|1||DFT^P03|" + controlId + "|P|2.5.1").getBytes(StandardCharsets.UTF_8))
                .header("T^T", controlId, "DFT^P03", "2.5.1").contentHash("h" + controlId)
                .answered(MessageStatus.ACCEPTED, "AA", "MSA|AA|" + controlId, null);
        return new Journal.Entry(m, "{\"lines\":[]}", 0, destinations, null);
    }
}
