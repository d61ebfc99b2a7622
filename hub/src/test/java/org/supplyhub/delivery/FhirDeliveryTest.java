package org.supplyhub.delivery;

import org.hl7.fhir.r4.model.Device;
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
import org.supplyhub.support.FhirTestServer;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.supplyhub.delivery.FileDeliveryTest.await;

/**
 * The FHIR destination against a real HAPI RestfulServer: the server is down (500) twice, then the
 * transaction lands; delivering the same message again creates nothing new (conditional creates).
 */
@SpringBootTest
@DirtiesContext
class FhirDeliveryTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static FhirTestServer server;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    IntakeService intake;

    @Autowired
    RunningConfig catalog;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        server = new FhirTestServer();
        Files.writeString(INTERFACES.routesDir.resolve("fhir.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: fhir-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: fhir-r4 }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: fhir-r4 }
                      - { name: connector, value: fhir }
                      - { name: output, value: fhir }
                      - { name: url, value: "%s" }
                      - { name: initialBackoff, value: 50ms }
                """.formatted(server.baseUrl()));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void transactionLandsOnceThroughOutagesAndRedeliveries() throws Exception {
        server.failNext.set(2);
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "FHIR-1");
        assertThat(intake.receive(catalog.get("fhir-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test").ackCode())
                .isEqualTo("AA");
        long id = jdbc.queryForObject("select id from message where control_id = 'FHIR-1'", Long.class);
        await(() -> "DELIVERED".equals(jdbc.queryForObject(
                "select status from outbox where message_id = ? and destination = 'fhir-r4'", String.class, id)));

        assertThat(jdbc.queryForList("select a.outcome || ' ' || a.code from delivery_attempt a join outbox o"
                + " on o.id = a.outbox_id where o.message_id = ? order by a.attempt", String.class, id))
                .containsExactly("RETRY 500", "RETRY 500", "DELIVERED 200");
        assertThat(server.stored).hasSize(7);
        server.stored.values().forEach(R4Validator::assertValid);
        Device knee = (Device) server.stored.get(
                "Device|https://fhir.mercy.example.org/sid/or-transaction|TX-88120-3");
        assertThat(knee.getUdiCarrierFirstRep().getDeviceIdentifier()).isEqualTo("00889024123458");

        // a replayed delivery (or a hub that died after the send but before marking it) changes nothing
        int transactions = server.transactions.get();
        jdbc.update("update outbox set status = 'PENDING', next_attempt_at = current_timestamp where message_id = ?", id);
        await(() -> server.transactions.get() > transactions && "DELIVERED".equals(jdbc.queryForObject(
                "select status from outbox where message_id = ? and destination = 'fhir-r4'", String.class, id)));
        assertThat(server.stored).hasSize(7);
    }
}
