package org.supplyhub.delivery;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.support.Await;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A billing system that takes connections and never answers ties up only its own destination:
 * while each of its sends waits out the ACK timeout, inventory (another destination of the same
 * messages) gets everything at once; the backlog gauges show which destination is behind.
 */
@SpringBootTest
@DirtiesContext
class DestinationIsolationTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final int MESSAGES = 24;
    static final int BILLING_TIMEOUT_SECONDS = 6;

    static final Set<String> stockKeys = ConcurrentHashMap.newKeySet();
    static final List<Socket> silentConnections = new CopyOnWriteArrayList<>();
    static HttpServer inventory;
    static ServerSocket silentBilling;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    IntakeService intake;

    @Autowired
    RunningConfig catalog;

    @Autowired
    MeterRegistry meters;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        inventory = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        inventory.createContext("/stock", exchange -> {
            stockKeys.add(exchange.getRequestHeaders().getFirst("Idempotency-Key"));
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(201, -1);
            exchange.close();
        });
        inventory.start();
        silentBilling = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            while (!silentBilling.isClosed()) {
                try {
                    Socket s = silentBilling.accept();
                    silentConnections.add(s);
                    Thread reader = new Thread(() -> drain(s)); // reads every frame, answers none
                    reader.setDaemon(true);
                    reader.start();
                } catch (Exception e) {
                    return;
                }
            }
        });
        acceptor.setDaemon(true);
        acceptor.start();
        Files.writeString(INTERFACES.routesDir.resolve("isolation.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: isolation-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: "silent-billing, quick-inventory" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: silent-billing }
                      - { name: connector, value: mllp }
                      - { name: output, value: charges }
                      - { name: url, value: "mllp://127.0.0.1:%d" }
                      - { name: timeout, value: %ds }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: quick-inventory }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%d/stock" }
                """.formatted(silentBilling.getLocalPort(), BILLING_TIMEOUT_SECONDS, inventory.getAddress().getPort()));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    static void drain(Socket socket) {
        try (InputStream in = socket.getInputStream()) {
            while (in.read() >= 0) {
                // swallow
            }
        } catch (Exception ignored) {
            // closed
        }
    }

    @AfterAll
    static void stop() throws Exception {
        inventory.stop(0);
        silentBilling.close();
        for (Socket s : silentConnections) {
            s.close();
        }
    }

    @Test
    void aSilentBillingSystemHoldsUpNoOtherDestination() throws Exception {
        for (int i = 0; i < MESSAGES; i++) { // one account each, so billing has all of them in flight at once
            String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "ISO-" + i)
                    .replace("ACCT90017733", "ACCT-ISO-" + i).replace("TX-88120-", "TX-ISO" + i + "-");
            assertThat(intake.receive(catalog.get("isolation-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test")
                    .ackCode()).isEqualTo("AA");
        }
        long accepted = System.nanoTime();

        Await.until(() -> stockKeys.size() == MESSAGES, BILLING_TIMEOUT_SECONDS);
        double seconds = (System.nanoTime() - accepted) / 1e9;
        assertThat(seconds).as("inventory did not wait for billing's timeouts").isLessThan(BILLING_TIMEOUT_SECONDS / 2.0);
        // the receiver has them all; their settlement commits a moment after the last answer
        Await.until(() -> jdbc.queryForObject("select count(*) from outbox where destination = 'quick-inventory'"
                + " and status = 'DELIVERED'", Integer.class) == MESSAGES, 3);
        assertThat(jdbc.queryForObject("select count(*) from outbox where destination = 'silent-billing'"
                + " and status = 'DELIVERED'", Integer.class)).as("billing never answered").isZero();

        // what an operator's alert sees
        assertThat(gauge("hub.outbox.pending", "silent-billing")).isEqualTo(MESSAGES);
        assertThat(gauge("hub.outbox.oldest", "silent-billing")).isGreaterThan(0);
        assertThat(gauge("hub.outbox.pending", "quick-inventory")).isZero();
        assertThat(gauge("hub.outbox.oldest", "quick-inventory")).isZero();
    }

    double gauge(String name, String destination) {
        return meters.get(name).tag("destination", destination).gauge().value();
    }
}
