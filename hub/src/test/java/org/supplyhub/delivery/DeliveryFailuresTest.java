package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.journal.crypto.Column;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.support.Await;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What no delivery failure may do: block an account forever, kill a worker silently, or go
 * unnoticed. A message whose journaled usage cannot be rendered is dead at once with the reason
 * and its account moves on; an {@link Error} thrown while sending is a journaled attempt, the
 * worker keeps polling and health says DOWN meanwhile; a receiver outage is one WARN line when it
 * starts and one INFO line when it ends, with no patient data.
 */
@SpringBootTest(properties = "hub.delivery.fatal-hold=1s")
@DirtiesContext
class DeliveryFailuresTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static volatile boolean receiverDown = true;
    static volatile boolean connectorThrows = true;
    static HttpServer receiver;

    @Autowired
    JournalKeys keys;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    IntakeService intake;

    @Autowired
    RunningConfig catalog;

    @Autowired
    DeliveryHealth health;

    ListAppender<ILoggingEvent> logs;

    /** A file connector whose sends to faulty-stock throw an Error while {@link #connectorThrows}. */
    @TestConfiguration
    static class FaultyConnector {
        @Bean
        @Primary
        FileConnector faultyFileConnector() {
            return new FileConnector() {
                @Override
                public String send(DestinationDefinition d, Payload payload) throws DeliveryException {
                    if (d.name().equals("faulty-stock") && connectorThrows) {
                        throw new StackOverflowError();
                    }
                    return super.send(d, payload);
                }
            };
        }
    }

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.createContext("/stock", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(receiverDown ? 503 : 201, -1);
            exchange.close();
        });
        receiver.start();
        StringBuilder routes = new StringBuilder();
        for (String name : List.of("render", "faulty", "flaky")) {
            routes.append("""
                    - templatedRoute:
                        routeTemplateRef: hl7-http-inbound
                        parameters:
                          - { name: interfaceId, value: %1$s-or }
                          - { name: mapping, value: mercy-or.yaml }
                          - { name: destinations, value: %1$s-stock }
                    """.formatted(name));
        }
        routes.append("""
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: render-stock }
                      - { name: connector, value: file }
                      - { name: output, value: stock }
                      - { name: directory, value: "%1$s/render" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: faulty-stock }
                      - { name: connector, value: file }
                      - { name: output, value: stock }
                      - { name: directory, value: "%1$s/faulty" }
                      - { name: initialBackoff, value: 50ms }
                      - { name: maxBackoff, value: 200ms }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: flaky-stock }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%2$d/stock" }
                      - { name: timeout, value: 2s }
                      - { name: initialBackoff, value: 50ms }
                      - { name: maxBackoff, value: 200ms }
                """.formatted(INTERFACES.outDir, receiver.getAddress().getPort()));
        Files.writeString(INTERFACES.routesDir.resolve("failures.yaml"), routes.toString());
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    @BeforeEach
    void captureLogs() {
        logs = new ListAppender<>();
        logs.start();
        ((Logger) LoggerFactory.getLogger("org.supplyhub")).addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        ((Logger) LoggerFactory.getLogger("org.supplyhub")).detachAppender(logs);
    }

    @AfterAll
    static void stop() {
        receiver.stop(0);
    }

    @Test
    void aMessageThatCannotBeRenderedIsDeadAtOnceAndItsAccountMovesOn() throws Exception {
        long first = accept("render-or", "RENDER-1");
        Await.until(() -> "DELIVERED".equals(status(first, "render-stock")));
        // journaled as intake once accepted it: a quantity of 1,001 digits, more than the JSON reader takes
        long broken = jdbc.queryForObject("insert into message (interface_id, sender, control_id, message_type,"
                + " hl7_version, status, received_at, caller, charset, raw, ack_code, ack, usage_json, line_count)"
                + " select interface_id, sender, 'RENDER-BROKEN', message_type, hl7_version, status, received_at, caller,"
                + " charset, raw, ack_code, ack, usage_json, line_count from message where id = ? returning id",
                Long.class, first);
        // the usage is stored sealed: open it, break it, seal it again with the hub's own keys
        String usage = keys.openText(Column.MESSAGE_USAGE,
                jdbc.queryForObject("select usage_json from message where id = ?", String.class, broken));
        jdbc.update("update message set usage_json = ? where id = ?", keys.sealText(Column.MESSAGE_USAGE,
                usage.replaceAll("\"quantity\":-?[0-9.]+", "\"quantity\":" + "1".repeat(1001))), broken);
        jdbc.update("insert into outbox (message_id, destination, ordering_key, status, attempts, created_at,"
                + " next_attempt_at) select ?, destination, ordering_key, 'PENDING', 0, current_timestamp,"
                + " current_timestamp from outbox where message_id = ?", broken, first);
        long next = accept("render-or", "RENDER-2"); // the same account, behind the broken one

        Await.until(() -> "DELIVERED".equals(status(next, "render-stock")), 10);
        assertThat(status(broken, "render-stock")).isEqualTo("DEAD");
        Map<String, Object> attempt = jdbc.queryForMap("select a.attempt, a.outcome, a.code, a.detail from"
                + " delivery_attempt a join outbox o on o.id = a.outbox_id where o.message_id = ?", broken);
        assertThat(attempt).containsEntry("attempt", 1).containsEntry("outcome", "DEAD").containsEntry("code", "RENDER");
        assertThat((String) attempt.get("detail")).contains("cannot render").contains("StreamConstraintsException")
                .doesNotContain("1111111111");
        assertThat(jdbc.queryForObject("select last_error from outbox where message_id = ?", String.class, broken))
                .contains("StreamConstraintsException");
    }

    @Test
    void anErrorWhileSendingIsAnAttemptTheWorkerGoesOnAndHealthSaysDown() throws Exception {
        HealthIndicator faulty = (HealthIndicator) health.getContributor("faulty-stock");
        assertThat(faulty.health().getStatus()).isEqualTo(Status.UP);
        long id = accept("faulty-or", "FAULTY-1");

        Await.until(() -> jdbc.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.message_id = ? and a.code = 'ERROR'", Integer.class, id) >= 3, 10);
        assertThat(faulty.health().getStatus()).isEqualTo(Status.DOWN);
        assertThat(faulty.health().getDetails().get("fatal").toString()).contains("StackOverflowError");
        assertThat(jdbc.queryForList("select a.detail from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.message_id = ?", String.class, id)).allMatch(d -> d.contains("java.lang.StackOverflowError"));

        connectorThrows = false;
        Await.until(() -> "DELIVERED".equals(status(id, "faulty-stock")), 10);
        int attempts = jdbc.queryForObject("select attempts from outbox where message_id = ? and destination = 'faulty-stock'",
                Integer.class, id);
        assertThat(jdbc.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.message_id = ?", Integer.class, id)).as("every attempt journaled").isEqualTo(attempts);
        Await.until(() -> faulty.health().getStatus().equals(Status.UP), 5); // after hub.delivery.fatal-hold
    }

    @Test
    void aReceiverOutageIsOneWarningAndOneRecoveryLineWithoutPatientData() throws Exception {
        long a = accept("flaky-or", "FLAKY-1");
        long b = accept("flaky-or", "FLAKY-2");
        long c = accept("flaky-or", "FLAKY-3");
        Await.until(() -> jdbc.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.destination = 'flaky-stock' and a.outcome = 'RETRY'", Integer.class) >= 8, 15);
        receiverDown = false;
        Await.until(() -> List.of(a, b, c).stream().allMatch(id -> "DELIVERED".equals(status(id, "flaky-stock"))), 15);
        Thread.sleep(300); // anything logged after the last settlement

        List<ILoggingEvent> flaky = logs.list.stream().filter(e -> e.getFormattedMessage().contains("flaky-stock")).toList();
        assertThat(flaky).filteredOn(e -> e.getLevel() == Level.WARN).hasSize(1)
                .allMatch(e -> e.getFormattedMessage().contains("failing") && e.getFormattedMessage().contains("503"));
        assertThat(flaky).filteredOn(e -> e.getLevel() == Level.INFO).hasSize(1)
                .allMatch(e -> e.getFormattedMessage().contains("delivering again"));
        assertThat(flaky).filteredOn(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).hasSize(1);
        for (ILoggingEvent e : logs.list) {
            assertThat(e.getFormattedMessage()).doesNotContain("MRN448812", "VALDEZ", "ROSA", "ACCT", "ELM ST", "19580302");
        }
    }

    long accept(String interfaceId, String controlId) {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId)
                .replace("TX-88120-", "TX-" + controlId + "-");
        if (interfaceId.equals("flaky-or")) { // one account each
            er7 = er7.replace("ACCT90017733", "ACCT-" + controlId);
        }
        assertThat(intake.receive(catalog.get(interfaceId), er7.getBytes(StandardCharsets.UTF_8), null, "test")
                .ackCode()).isEqualTo("AA");
        return jdbc.queryForObject("select id from message where control_id = ?", Long.class, controlId);
    }

    String status(long messageId, String destination) {
        return jdbc.queryForObject("select status from outbox where message_id = ? and destination = ?", String.class,
                messageId, destination);
    }
}
