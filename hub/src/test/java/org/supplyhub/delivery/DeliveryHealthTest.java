package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.config.ConnectorKind;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.boot.actuate.health.Status;
import org.supplyhub.delivery.OutboxRepository.Claimed;
import org.supplyhub.delivery.OutboxRepository.Outcome;
import org.supplyhub.delivery.OutboxRepository.Settlement;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The delivery health rules and the outage log, without Spring, on a clock the test moves. */
class DeliveryHealthTest {

    static final DestinationDefinition BILLING = destination(ConnectorKind.MLLP, 50, Duration.ofSeconds(30),
            Duration.ofMinutes(5));

    final MovableClock clock = new MovableClock();
    final DeliveryHealth health = new DeliveryHealth(List.of(BILLING), Duration.ofMinutes(1), true, clock);

    @Test
    void aFailedPollIsDownUntilAPollCompletes() {
        assertThat(status()).isEqualTo(Status.UP);
        assertThat(health.polled("billing", new IllegalStateException())).as("first of a run").isTrue();
        assertThat(health.polled("billing", new IllegalStateException())).as("not the first").isFalse();
        health.idle("billing"); // a tick with nothing to do is no recovery
        assertThat(status()).isEqualTo(Status.DOWN);
        health.polled("billing", null);
        assertThat(status()).isEqualTo(Status.UP);
    }

    @Test
    void aFatalErrorIsDownForTheHoldTime() {
        health.fatal("billing", new OutOfMemoryError());
        health.polled("billing", null);
        assertThat(status()).isEqualTo(Status.DOWN);
        assertThat(health.health("billing").getDetails().get("fatal").toString()).contains("OutOfMemoryError");
        clock.advance(Duration.ofSeconds(61));
        health.polled("billing", null);
        assertThat(status()).isEqualTo(Status.UP);
    }

    @Test
    void aWorkerThatStopsTickingIsDownAfterItsLeaseAndAMinute() {
        clock.advance(Duration.ofMinutes(5));
        assertThat(status()).as("a poll may last its lease").isEqualTo(Status.UP);
        clock.advance(Duration.ofSeconds(61));
        assertThat(status()).isEqualTo(Status.DOWN);
        assertThat(health.health("billing").getDetails()).containsKey("stalled");
        health.idle("billing");
        assertThat(status()).isEqualTo(Status.UP);
    }

    @Test
    void aReceiverOutageIsLoggedWhenItStartsAndWhenItEnds() {
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        Logger logger = (Logger) LoggerFactory.getLogger(DeliveryHealth.class);
        logger.addAppender(logs);
        try {
            for (int i = 0; i < 5; i++) {
                health.receiver("billing", false, List.of(retry("NO-ACK", "no ACK from billing.example.org")));
            }
            health.receiver("billing", false, List.of()); // a claim of rows not sent (rendering) says nothing
            assertThat(health.health("billing").getStatus()).as("a receiver outage is not the hub's").isEqualTo(Status.UP);
            assertThat(health.health("billing").getDetails()).containsEntry("failedAttempts", 5);
            health.receiver("billing", true, List.of(retry("NO-ACK", "no ACK from billing.example.org")));
            health.receiver("billing", true, List.of());
        } finally {
            logger.detachAppender(logs);
        }
        assertThat(logs.list).extracting(ILoggingEvent::getLevel).containsExactly(Level.WARN, Level.INFO);
        assertThat(logs.list.get(0).getFormattedMessage()).contains("billing", "NO-ACK", "failing");
        assertThat(logs.list.get(1).getFormattedMessage()).contains("billing", "delivering again after 6 failed attempts");
        assertThat(health.health("billing").getDetails()).doesNotContainKey("receiverFailingSince");
    }

    @Test
    void theWorstClaimIsEverySenderWaitingOutTheTimeoutForItsShare() {
        assertThat(DeliveryWorker.worstClaim(BILLING, 8)).isEqualTo(Duration.ofSeconds(210));
        assertThat(DeliveryWorker.worstClaim(BILLING, 50)).isEqualTo(Duration.ofSeconds(30));
        assertThat(DeliveryWorker.worstClaim(destination(ConnectorKind.FILE, 50, Duration.ofSeconds(30),
                Duration.ofMinutes(2)), 8)).as("files have no timeout").isNull();
    }

    Status status() {
        return health.health("billing").getStatus();
    }

    Settlement retry(String code, String detail) {
        Claimed row = new Claimed(1, 1, "acct", 1, clock.instant(), "{}");
        return new Settlement(row, clock.instant(), 5, Outcome.RETRY, code, detail, clock.instant());
    }

    static DestinationDefinition destination(ConnectorKind connector, int batchSize, Duration timeout, Duration lease) {
        return new DestinationDefinition("billing", "routes/destinations.yaml", connector,
                DestinationDefinition.Output.CHARGES, null, URI.create("mllp://billing.example.org:6661"), timeout,
                DestinationDefinition.Format.ER7, 100, Duration.ofHours(24), Duration.ofSeconds(2),
                Duration.ofMinutes(10), Duration.ofSeconds(1), lease, batchSize, null, false, null);
    }

    static final class MovableClock extends Clock {
        private Instant now = Instant.parse("2026-11-29T04:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
