package org.supplyhub.delivery;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.SupplyHubApplication;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.support.Await;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A claim never outlives its lease: the rows of a claim are settled as their sends finish (a slow
 * send holds up none of the others), and a destination whose worst-case claim (every sender waiting
 * out the timeout for its share of a full batch) is longer than the lease is refused at start-up.
 */
@SpringBootTest
@DirtiesContext
class LeaseTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final CountDownLatch releaseSlow = new CountDownLatch(1);
    static final AtomicBoolean slowInFlight = new AtomicBoolean();
    static HttpServer receiver;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    IntakeService intake;

    @Autowired
    RunningConfig catalog;

    @Autowired
    OutboxRepository outbox;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.setExecutor(Executors.newFixedThreadPool(8));
        receiver.createContext("/stock", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            if (body.contains("LEASE-SLOW")) { // answers when the test says so
                slowInFlight.set(true);
                try {
                    releaseSlow.await(20, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            exchange.sendResponseHeaders(201, -1);
            exchange.close();
        });
        receiver.start();
        Files.writeString(INTERFACES.routesDir.resolve("lease.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: lease-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: lease-inventory }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: lease-inventory }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%d/stock" }
                      - { name: timeout, value: 25s }
                      - { name: lease, value: 30s }
                      - { name: batchSize, value: 8 }
                      - { name: pollInterval, value: 3s }
                """.formatted(receiver.getAddress().getPort()));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    @AfterAll
    static void stop() {
        releaseSlow.countDown();
        receiver.stop(0);
    }

    @Test
    void rowsOfAClaimAreSettledAsTheirSendsFinish() throws Exception {
        // journaled within one poll interval, so one claim takes them all; the slow one last
        List<Long> fast = List.of(accept("LEASE-1"), accept("LEASE-2"), accept("LEASE-3"), accept("LEASE-4"));
        long slow = accept("LEASE-SLOW");

        Await.until(() -> fast.stream().allMatch(id -> "DELIVERED".equals(status(id))), 15);
        assertThat(slowInFlight).as("the slow send is still waiting for its answer").isTrue();
        assertThat(status(slow)).isEqualTo("PENDING");
        releaseSlow.countDown();
        Await.until(() -> "DELIVERED".equals(status(slow)), 10);
        assertThat(jdbc.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " join message m on m.id = o.message_id where o.destination = 'lease-inventory'"
                + " and m.control_id like 'LEASE-%' and m.control_id <> 'LEASE-FENCE'", Integer.class))
                .as("one attempt each").isEqualTo(5);
    }

    @Test
    void aDestinationWhoseClaimCanOutlastItsLeaseIsRefusedAtStartUp() throws Exception {
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        Files.writeString(interfaces.routesDir.resolve("billing.yaml"), """
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: remote-billing }
                      - { name: connector, value: mllp }
                      - { name: output, value: charges }
                      - { name: url, value: "mllp://127.0.0.1:6661" }
                      - { name: lease, value: 2m }
                """);
        Map<String, String> props = new HashMap<>(TestDatabases.h2());
        props.putAll(interfaces.properties());
        props.put("server.port", "0");
        props.put("spring.jmx.enabled", "false");
        assertThatThrownBy(() -> new SpringApplicationBuilder(SupplyHubApplication.class)
                .run(props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new))
                .close())
                .rootCause().hasMessageContaining("destination 'remote-billing'")
                .hasMessageContaining("7 × timeout 30s = 210s")
                .hasMessageContaining("batchSize 50 on 8 senders")
                .hasMessageContaining("lease of 120s");
    }

    @Test
    void aClaimWhoseLeaseRanOutDoesNotSettleARowAnotherClaimHasTaken() throws Exception {
        long message = accept("LEASE-FENCE");
        // a destination no worker polls, so the test alone claims it
        jdbc.update("insert into outbox (message_id, destination, ordering_key, status, attempts, created_at,"
                + " next_attempt_at) values (?, 'fenced', 'acct', 'PENDING', 0, current_timestamp, current_timestamp)",
                message);
        OutboxRepository.Claimed first = outbox.claim("fenced", 1, Duration.ofMillis(1)).get(0);
        Thread.sleep(50); // the first claim's lease runs out mid-send
        OutboxRepository.Claimed second = outbox.claim("fenced", 1, Duration.ofMinutes(1)).get(0);
        assertThat(second.attempt()).isEqualTo(first.attempt() + 1);

        // the first claim's send ends now: it must not settle (or journal) what the second one owns
        assertThat(outbox.settle(List.of(OutboxRepository.Settlement.delivered(first, Instant.now(), 5, "late"))))
                .isEqualTo(1);
        assertThat(jdbc.queryForMap("select status, lease_until from outbox where destination = 'fenced'"))
                .containsEntry("status", "PENDING").extractingByKey("lease_until").isNotNull();
        assertThat(jdbc.queryForList("select outcome from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.destination = 'fenced' order by a.attempt", String.class)).containsExactly("LOST");

        assertThat(outbox.settle(List.of(OutboxRepository.Settlement.delivered(second, Instant.now(), 5, "ok"))))
                .isZero();
        assertThat(jdbc.queryForObject("select status from outbox where destination = 'fenced'", String.class))
                .isEqualTo("DELIVERED");
        assertThat(jdbc.queryForList("select outcome from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.destination = 'fenced' order by a.attempt", String.class)).containsExactly("LOST", "DELIVERED");
    }

    long accept(String controlId) {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId)
                .replace("ACCT90017733", "ACCT-" + controlId).replace("TX-88120-", "TX-" + controlId + "-");
        assertThat(intake.receive(catalog.get("lease-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test")
                .ackCode()).isEqualTo("AA");
        return jdbc.queryForObject("select id from message where control_id = ?", Long.class, controlId);
    }

    String status(long messageId) {
        return jdbc.queryForObject("select status from outbox where message_id = ? and destination = 'lease-inventory'",
                String.class, messageId);
    }
}
