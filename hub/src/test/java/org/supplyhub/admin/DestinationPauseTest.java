package org.supplyhub.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.web.servlet.AutoConfigureMockMvc;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.authentication.TestingAuthenticationToken;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.servlet.MockMvc;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.support.Await;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.get;
import static org.springframework.test.web.servlet.request.MockMvcRequestBuilders.post;
import static org.springframework.test.web.servlet.result.MockMvcResultMatchers.status;

/**
 * Pausing a destination through the admin API holds its rows PENDING (no attempt is made) while
 * another destination of the same messages delivers; resuming delivers each of them exactly once
 * to a real HTTP receiver (counted by idempotency key). The pause lives in the database (V11), so
 * it holds for the workers of every node. Security filters are off here: the scopes of these
 * endpoints are the console-auth helper's AccessRules; the audit rows name the caller.
 */
@SpringBootTest
@AutoConfigureMockMvc(addFilters = false)
@DirtiesContext
class DestinationPauseTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final int RECEIVER_PORT = TestInterfaces.freePort();
    static final int MESSAGES = 6;
    /** receiver path ("held" or "free") → idempotency key → times received. */
    static final Map<String, Map<String, AtomicInteger>> received = new ConcurrentHashMap<>();
    static HttpServer receiver;

    @Autowired
    MockMvc mvc;
    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    IntakeService intake;
    @Autowired
    RunningConfig config;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", RECEIVER_PORT), 0);
        for (String path : new String[] {"held", "free"}) {
            receiver.createContext("/" + path, exchange -> {
                exchange.getRequestBody().readAllBytes();
                received.computeIfAbsent(path, p -> new ConcurrentHashMap<>())
                        .computeIfAbsent(exchange.getRequestHeaders().getFirst("Idempotency-Key"), k -> new AtomicInteger())
                        .incrementAndGet();
                exchange.sendResponseHeaders(200, -1);
                exchange.close();
            });
        }
        receiver.start();
        Files.writeString(INTERFACES.routesDir.resolve("pause.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: pause-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: "held-stock, free-stock" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: held-stock }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%1$d/held" }
                      - { name: pollInterval, value: 100ms }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: free-stock }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%1$d/free" }
                      - { name: pollInterval, value: 100ms }
                """.formatted(RECEIVER_PORT));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.config.watch", () -> "false");
    }

    @AfterAll
    static void stop() {
        receiver.stop(0);
    }

    @Test
    void pausedRowsStayPendingWhileOthersDeliverAndResumeDeliversThemOnce() throws Exception {
        var operator = new TestingAuthenticationToken("ops-client", null, "SCOPE_messages:replay");
        mvc.perform(post("/api/destinations/held-stock/pause").principal(operator)).andExpect(status().isOk());
        mvc.perform(post("/api/destinations/no-such-destination/pause").principal(operator))
                .andExpect(status().isNotFound());

        String sample = Samples.read(Samples.MERCY);
        for (int i = 0; i < MESSAGES; i++) {
            assertThat(intake.receive(config.get("pause-or"),
                    Samples.withControlId(sample, "PAUSE-" + i).getBytes(StandardCharsets.UTF_8), null, "test").ackCode())
                    .isEqualTo("AA");
        }
        // the other destination of the same messages delivers all of them meanwhile
        Await.until(() -> count("free-stock", "DELIVERED") == MESSAGES, 30);
        Thread.sleep(1500); // ~15 polls of the paused destination's worker
        assertThat(count("held-stock", "PENDING")).isEqualTo(MESSAGES);
        assertThat(jdbc.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.destination = 'held-stock'", Integer.class)).as("no attempt while paused").isZero();
        assertThat(received.getOrDefault("held", Map.of())).isEmpty();

        JsonNode state = new ObjectMapper().readTree(mvc.perform(get("/api/destinations").principal(operator))
                .andExpect(status().isOk()).andReturn().getResponse().getContentAsString());
        JsonNode held = find(state, "held-stock");
        assertThat(held.get("paused").asBoolean()).isTrue();
        assertThat(held.get("pending").asLong()).isEqualTo(MESSAGES);
        assertThat(held.get("pausedBy").asText()).isEqualTo("client:ops-client");
        assertThat(held.get("needsAttention").asText()).isEqualTo("paused");
        assertThat(find(state, "free-stock").get("paused").asBoolean()).isFalse();

        mvc.perform(post("/api/destinations/held-stock/resume").principal(operator)).andExpect(status().isOk());
        Await.until(() -> count("held-stock", "DELIVERED") == MESSAGES, 30);
        Thread.sleep(1000); // anything sent twice would have arrived by now
        Map<String, AtomicInteger> heldKeys = received.get("held");
        assertThat(heldKeys).hasSize(MESSAGES);
        assertThat(heldKeys.values()).allSatisfy(n -> assertThat(n.get()).as("each row delivered once").isEqualTo(1));
        assertThat(received.get("free")).hasSize(MESSAGES);

        assertThat(jdbc.queryForList("select action || ' ' || target || ' ' || outcome from audit_event"
                + " where action like 'DESTINATION_%' and actor = 'client:ops-client' order by id", String.class))
                .containsExactly("DESTINATION_PAUSE destination held-stock OK",
                        "DESTINATION_PAUSE destination no-such-destination 404",
                        "DESTINATIONS_READ all OK",
                        "DESTINATION_RESUME destination held-stock OK");
    }

    private int count(String destination, String status) {
        return jdbc.queryForObject("select count(*) from outbox where destination = ? and status = ?", Integer.class,
                destination, status);
    }

    private static JsonNode find(JsonNode rows, String name) {
        for (JsonNode row : rows) {
            if (row.get("name").asText().equals(name)) {
                return row;
            }
        }
        throw new AssertionError("no destination " + name + " in " + rows);
    }
}
