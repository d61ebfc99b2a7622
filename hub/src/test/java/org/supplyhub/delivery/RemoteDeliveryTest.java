package org.supplyhub.delivery;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.supplyhub.delivery.FileDeliveryTest.await;

/**
 * Billing over MLLP and inventory over HTTP, against real receivers on real sockets that fail
 * first: retried with the same control id / idempotency key, then delivered; a receiver that
 * rejects outright (AR, HTTP 400) makes the row dead with the reason.
 */
@SpringBootTest
@DirtiesContext
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RemoteDeliveryTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final int HTTP_PORT = TestInterfaces.freePort();
    static final int MLLP_PORT = TestInterfaces.freePort();
    static final int MLLP_REJECT_PORT = TestInterfaces.freePort();

    static final List<String> idempotencyKeys = new CopyOnWriteArrayList<>();
    static final List<String> stockBodies = new CopyOnWriteArrayList<>();
    static final AtomicInteger httpCalls = new AtomicInteger();
    static final List<String> billingControlIds = new CopyOnWriteArrayList<>();
    /** What billing received, in order: "MSH-10 FT1-2:FT1-6 …". */
    static final List<String> billingReceived = new CopyOnWriteArrayList<>();
    static final AtomicInteger mllpCalls = new AtomicInteger();

    static HttpServer http;
    static HapiContext hapi;
    static HL7Service billing;
    static HL7Service rejecting;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    IntakeService intake;

    @Autowired
    RunningConfig catalog;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        startReceivers();
        Files.writeString(INTERFACES.routesDir.resolve("remote.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: remote-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: "remote-billing, remote-inventory, rejecting-billing, rejecting-inventory" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: remote-billing }
                      - { name: connector, value: mllp }
                      - { name: output, value: charges }
                      - { name: url, value: "mllp://127.0.0.1:%d" }
                      - { name: timeout, value: 5s }
                      - { name: initialBackoff, value: 50ms }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: remote-inventory }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%d/stock" }
                      - { name: initialBackoff, value: 50ms }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: rejecting-billing }
                      - { name: connector, value: mllp }
                      - { name: output, value: charges }
                      - { name: url, value: "mllp://127.0.0.1:%d" }
                      - { name: initialBackoff, value: 50ms }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: rejecting-inventory }
                      - { name: connector, value: http }
                      - { name: output, value: stock }
                      - { name: url, value: "http://127.0.0.1:%d/bad-request" }
                      - { name: initialBackoff, value: 50ms }
                """.formatted(MLLP_PORT, HTTP_PORT, MLLP_REJECT_PORT, HTTP_PORT));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    static void startReceivers() throws Exception {
        http = HttpServer.create(new InetSocketAddress("127.0.0.1", HTTP_PORT), 0);
        http.createContext("/stock", exchange -> {
            idempotencyKeys.add(exchange.getRequestHeaders().getFirst("Idempotency-Key"));
            stockBodies.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            int status = httpCalls.incrementAndGet() <= 2 ? 503 : 201; // down twice, then up
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        http.createContext("/bad-request", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(400, -1);
            exchange.close();
        });
        http.start();

        hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
        billing = hapi.newServer(MLLP_PORT, false);
        billing.registerApplication("*", "*", acking(billingControlIds, () -> mllpCalls.incrementAndGet() == 1 ? "AE" : "AA"));
        billing.startAndWait();
        rejecting = hapi.newServer(MLLP_REJECT_PORT, false);
        rejecting.registerApplication("*", "*", acking(new CopyOnWriteArrayList<>(), () -> "AR"));
        rejecting.startAndWait();
    }

    static ReceivingApplication<Message> acking(List<String> controlIds, java.util.function.Supplier<String> code) {
        return new ReceivingApplication<>() {
            @Override
            public Message processMessage(Message message, Map<String, Object> metadata) {
                try {
                    Terser terser = new Terser(message);
                    controlIds.add(terser.get("/MSH-10"));
                    StringBuilder lines = new StringBuilder(terser.get("/MSH-10"));
                    for (int i = 0; terser.get("/FINANCIAL(" + i + ")/FT1-2") != null; i++) {
                        lines.append(' ').append(terser.get("/FINANCIAL(" + i + ")/FT1-2")).append(':')
                                .append(terser.get("/FINANCIAL(" + i + ")/FT1-6"));
                    }
                    billingReceived.add(lines.toString());
                    return message.generateACK(ca.uhn.hl7v2.AcknowledgmentCode.valueOf(code.get()), null);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public boolean canProcess(Message message) {
                return true;
            }
        };
    }

    @AfterAll
    static void stopReceivers() throws Exception {
        http.stop(0);
        billing.stopAndWait();
        rejecting.stopAndWait();
        hapi.close();
    }

    @Test
    @Order(1)
    void retriedWithTheSameKeysThenDeliveredOrDeadWithTheReason() throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "REMOTE-1");
        assertThat(intake.receive(catalog.get("remote-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test").ackCode())
                .isEqualTo("AA");
        long id = jdbc.queryForObject("select id from message where control_id = 'REMOTE-1'", Long.class);

        await(() -> status(id, "remote-inventory").equals("DELIVERED") && status(id, "remote-billing").equals("DELIVERED")
                && status(id, "rejecting-billing").equals("DEAD") && status(id, "rejecting-inventory").equals("DEAD"));

        assertThat(attempts(id, "remote-inventory")).containsExactly("RETRY 503", "RETRY 503", "DELIVERED 201");
        assertThat(idempotencyKeys).hasSize(3).containsOnly("remote-inventory-" + id);
        assertThat(stockBodies.get(2)).contains("\"inventoryItemId\":\"INV-300412\"").contains("\"quantity\":-1");

        assertThat(attempts(id, "remote-billing")).containsExactly("RETRY AE", "DELIVERED AA");
        long billingRow = jdbc.queryForObject("select id from outbox where message_id = ? and destination = 'remote-billing'",
                Long.class, id);
        assertThat(billingControlIds).as("the retry carries the same control id").hasSize(2)
                .containsOnly("SH" + billingRow);

        assertThat(attempts(id, "rejecting-billing")).containsExactly("DEAD AR");
        assertThat(attempts(id, "rejecting-inventory")).containsExactly("DEAD 400");
        assertThat(jdbc.queryForObject("select last_error from outbox where message_id = ? and destination = ?",
                String.class, id, "rejecting-inventory")).isEqualTo("HTTP 400 from 127.0.0.1");
    }

    @Test
    @Order(2)
    void aCreditReachesBillingAfterItsChargeAndPutsStockBack() throws Exception {
        String charge = Samples.withControlId(Samples.read(Samples.MERCY), "CHARGE-1");
        String credit = Samples.withControlId(Samples.read(Samples.MERCY_CREDIT), "CREDIT-1")
                .replace("270001188^LAP SPONGE 18X18 5PK", "270004512^SUTURE VICRYL 2-0 CT-1") // a chargeable return
                .replace("||||||TX-88120-2\r", "||||||TX-88120-1\r");
        mllpCalls.set(0); // billing answers AE once more: the credit must wait for the charge's retry
        for (String er7 : List.of(charge, credit)) {
            assertThat(intake.receive(catalog.get("remote-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test")
                    .ackCode()).isEqualTo("AA");
        }
        long chargeId = jdbc.queryForObject("select id from message where control_id = 'CHARGE-1'", Long.class);
        long creditId = jdbc.queryForObject("select id from message where control_id = 'CREDIT-1'", Long.class);
        await(() -> status(creditId, "remote-billing").equals("DELIVERED")
                && status(creditId, "remote-inventory").equals("DELIVERED"));

        String chargeRow = "SH" + outboxId(chargeId, "remote-billing");
        String creditRow = "SH" + outboxId(creditId, "remote-billing");
        List<String> received = billingReceived.stream()
                .filter(m -> m.startsWith(chargeRow + " ") || m.startsWith(creditRow + " ")).toList();
        assertThat(received).containsExactly(
                chargeRow + " TX-88120-1:CG TX-88120-3:CG",  // AE: retried
                chargeRow + " TX-88120-1:CG TX-88120-3:CG",  // AA
                creditRow + " TX-88120-2R:CD");
        assertThat(stockBodies.get(stockBodies.size() - 1)).contains("\"quantity\":1").contains("\"originalTransactionId\"");
    }

    long outboxId(long messageId, String destination) {
        return jdbc.queryForObject("select id from outbox where message_id = ? and destination = ?", Long.class,
                messageId, destination);
    }

    String status(long messageId, String destination) {
        return jdbc.queryForObject("select status from outbox where message_id = ? and destination = ?",
                String.class, messageId, destination);
    }

    List<String> attempts(long messageId, String destination) {
        return jdbc.queryForList("select a.outcome || ' ' || a.code from delivery_attempt a join outbox o"
                + " on o.id = a.outbox_id where o.message_id = ? and o.destination = ? order by a.attempt",
                String.class, messageId, destination);
    }
}
