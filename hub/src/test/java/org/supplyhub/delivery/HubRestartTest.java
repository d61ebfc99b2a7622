package org.supplyhub.delivery;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.support.Await;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A hub stopped in the middle of delivering — rows leased, requests in flight — and started again
 * on the same database: every row is delivered, and the idempotent receiver applies each once
 * (a request the first hub sent but never saw answered comes again with the same key). Each attempt
 * the stop cut off is journaled as LOST when its row is claimed again, so the rows' attempt counters
 * and the attempt journal agree.
 */
class HubRestartTest {

    static final int MESSAGES = 60;

    @Test
    void aHubStoppedMidDeliveryFinishesAfterRestartAndNothingIsAppliedTwice() throws Exception {
        Map<String, AtomicInteger> requestsByKey = new ConcurrentHashMap<>();
        AtomicInteger requests = new AtomicInteger();
        HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        receiver.setExecutor(Executors.newFixedThreadPool(16));
        receiver.createContext("/stock", exchange -> {
            exchange.getRequestBody().readAllBytes();
            requests.incrementAndGet();
            try {
                // well past the hub's 1 s shutdown allowance, however late the stop comes in a send: a stop
                // leaves requests in flight (at 1.5 s a stop 0.5 s into the sends let them finish)
                Thread.sleep(3000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
            boolean first = requestsByKey.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet() == 1;
            exchange.sendResponseHeaders(first ? 201 : 409, -1); // 409: already have it
            exchange.close();
        });
        receiver.start();
        String routes = """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: restart-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: slow-inventory }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: slow-inventory }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%d/stock" }
                      - { name: lease, value: 5s }
                      - { name: timeout, value: 4s }
                      - { name: batchSize, value: 8 }
                      - { name: initialBackoff, value: 50ms }
                """.formatted(receiver.getAddress().getPort());
        Map<String, String> db = TestDatabases.postgres();
        try {
            int leasedAtStop;
            JdbcTemplate jdbc;
            TestInterfaces first = TestInterfaces.copyOfShipped();
            Files.writeString(first.routesDir.resolve("restart.yaml"), routes);
            try (ConfigurableApplicationContext hub = start(db, first)) {
                jdbc = hub.getBean(JdbcTemplate.class);
                IntakeService intake = hub.getBean(IntakeService.class);
                InterfaceCatalog catalog = hub.getBean(RunningConfig.class).catalog();
                for (int i = 0; i < MESSAGES; i++) {
                    String er7 = Samples.withField(Samples.withControlId(Samples.read(Samples.MERCY), "RESTART-" + i),
                            "PID", 18, "ACCT-" + (i % 20) + "^^^MERCY^AN");
                    assertThat(intake.receive(catalog.get("restart-or"), er7.getBytes(StandardCharsets.UTF_8), null,
                            "test").ackCode()).isEqualTo("AA");
                }
                // a claim is settled as its sends finish and the next one is leased a moment later: wait for
                // a claim in flight rather than sample once, which could fall between the two
                JdbcTemplate during = jdbc;
                int[] leased = new int[1];
                Await.until(() -> delivered(during) >= 8 && (leased[0] = during.queryForObject("select count(*)"
                        + " from outbox where destination = 'slow-inventory' and status = 'PENDING'"
                        + " and lease_until > current_timestamp", Integer.class)) > 0, 30);
                leasedAtStop = leased[0];
            } // stopped here, mid-delivery
            JdbcTemplate after = new JdbcTemplate(dataSource(db));
            int deliveredBeforeRestart = delivered(after);
            int abandoned = after.queryForObject("select count(*) from outbox where destination = 'slow-inventory'"
                    + " and status = 'PENDING' and lease_until is not null", Integer.class);
            assertThat(deliveredBeforeRestart).as("the stop came mid-delivery").isLessThan(MESSAGES);
            assertThat(leasedAtStop).as("rows were leased when the hub stopped").isPositive();
            assertThat(abandoned).as("rows left leased by the stopped hub").isPositive();

            TestInterfaces second = TestInterfaces.copyOfShipped();
            Files.writeString(second.routesDir.resolve("restart.yaml"), routes);
            try (ConfigurableApplicationContext hub = start(db, second)) {
                Await.until(() -> delivered(hub.getBean(JdbcTemplate.class)) == MESSAGES, 60);
            }
            assertThat(requestsByKey).as("every row reached the receiver").hasSize(MESSAGES);
            assertThat(after.queryForObject("select count(*) from outbox where destination = 'slow-inventory'"
                    + " and status <> 'DELIVERED'", Integer.class)).isZero();
            assertThat(after.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                    + " where o.destination = 'slow-inventory' and a.outcome = 'LOST'", Integer.class))
                    .as("every attempt the stop cut off is journaled").isEqualTo(abandoned);
            assertThat(after.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                    + " where o.destination = 'slow-inventory'", Integer.class))
                    .as("attempt journal and attempt counters agree").isEqualTo(after.queryForObject(
                            "select sum(attempts) from outbox where destination = 'slow-inventory'", Integer.class));
            long resent = requestsByKey.values().stream().filter(n -> n.get() > 1).count();
            System.out.printf("Restart: %d leased at stop, %d left leased, %d delivered before, %d requests for %d rows,"
                    + " %d rows sent again after the restart (answered 409, applied once)%n",
                    leasedAtStop, abandoned, deliveredBeforeRestart, requests.get(), MESSAGES, resent);
            assertThat(resent).as("requests the stopped hub never saw answered came again").isPositive();
        } finally {
            receiver.stop(0);
        }
    }

    private static int delivered(JdbcTemplate jdbc) {
        return jdbc.queryForObject("select count(*) from outbox where destination = 'slow-inventory'"
                + " and status = 'DELIVERED'", Integer.class);
    }

    private static javax.sql.DataSource dataSource(Map<String, String> db) {
        var ds = new org.springframework.jdbc.datasource.DriverManagerDataSource(db.get("spring.datasource.url"),
                db.get("spring.datasource.username"), db.get("spring.datasource.password"));
        return ds;
    }

    static ConfigurableApplicationContext start(Map<String, String> db, TestInterfaces interfaces) {
        Map<String, String> props = new HashMap<>(db);
        props.putAll(interfaces.properties());
        props.put("server.port", "0");
        props.put("spring.jmx.enabled", "false");
        // stop like a node that is taken down, not drained: in-flight sends are abandoned after a second
        props.put("camel.main.shutdown-timeout", "1");
        return new org.springframework.boot.builder.SpringApplicationBuilder(org.supplyhub.SupplyHubApplication.class)
                .run(props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
    }
}
