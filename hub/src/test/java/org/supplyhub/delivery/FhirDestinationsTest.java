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
import org.supplyhub.support.Await;
import org.supplyhub.support.FhirTestServer;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * FHIR destinations against the real HAPI RestfulServer receiver: two destinations keep their own
 * timeouts (one gives up on a slow server, the other waits for it), and a conditional create on an
 * identifier with {@code |}, {@code &}, {@code #} and spaces matches exactly that identifier, so a
 * second send creates nothing.
 */
@SpringBootTest
@DirtiesContext
class FhirDestinationsTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final String SYSTEM = "https://fhir.mercy.example.org/sid/or-transaction";
    static FhirTestServer slow;
    static FhirTestServer server;

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    IntakeService intake;

    @Autowired
    RunningConfig catalog;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        slow = new FhirTestServer();
        slow.delayMillis = 2500;
        server = new FhirTestServer();
        Files.writeString(INTERFACES.routesDir.resolve("fhir.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: timeouts-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: "fhir-impatient, fhir-patient" }
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: escape-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: fhir-escape }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: fhir-impatient }
                      - { name: connector, value: fhir }
                      - { name: output, value: fhir }
                      - { name: url, value: "%1$s" }
                      - { name: timeout, value: 1s }
                      - { name: maxAttempts, value: 2 }
                      - { name: initialBackoff, value: 50ms }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: fhir-patient }
                      - { name: connector, value: fhir }
                      - { name: output, value: fhir }
                      - { name: url, value: "%1$s" }
                      - { name: timeout, value: 10s }
                      - { name: maxAttempts, value: 2 }
                      - { name: initialBackoff, value: 50ms }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: fhir-escape }
                      - { name: connector, value: fhir }
                      - { name: output, value: fhir }
                      - { name: url, value: "%2$s" }
                      - { name: initialBackoff, value: 50ms }
                """.formatted(slow.baseUrl(), server.baseUrl()));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    @AfterAll
    static void stop() throws Exception {
        slow.close();
        server.close();
    }

    @Test
    void eachDestinationKeepsItsOwnTimeout() throws Exception {
        long id = accept("timeouts-or", "FHIR-TIMEOUTS", "TX-88120-");
        Await.until(() -> !"PENDING".equals(status(id, "fhir-impatient")) && !"PENDING".equals(status(id, "fhir-patient")), 40);
        assertThat(status(id, "fhir-patient")).as("10 s is enough for a 2.5 s server").isEqualTo("DELIVERED");
        assertThat(status(id, "fhir-impatient")).as("1 s is not").isEqualTo("DEAD");
        assertThat(jdbc.queryForList("select a.code from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.message_id = ? and o.destination = 'fhir-impatient'", String.class, id)).containsOnly("IO");
    }

    @Test
    void aConditionalCreateMatchesAnIdentifierWithUrlCharacters() throws Exception {
        // HL7 escapes: \F\ is |, \T\ is &
        long id = accept("escape-or", "FHIR-ESCAPE", "TX 9\\F\\A\\T\\B#C+D-");
        Await.until(() -> "DELIVERED".equals(status(id, "fhir-escape")), 20);
        assertThat(server.stored).hasSize(7);
        Device knee = (Device) server.stored.get("Device|" + SYSTEM + "|TX 9|A&B#C+D-3");
        assertThat(knee).as("stored under its own identifier").isNotNull();
        assertThat(knee.getIdentifierFirstRep().getValue()).isEqualTo("TX 9|A&B#C+D-3");

        int transactions = server.transactions.get();
        jdbc.update("update outbox set status = 'PENDING', next_attempt_at = current_timestamp where message_id = ?", id);
        Await.until(() -> server.transactions.get() > transactions && "DELIVERED".equals(status(id, "fhir-escape")), 20);
        assertThat(server.stored).as("the second send created nothing").hasSize(7);
    }

    long accept(String interfaceId, String controlId, String transactionPrefix) {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId).replace("TX-88120-", transactionPrefix);
        assertThat(intake.receive(catalog.get(interfaceId), er7.getBytes(StandardCharsets.UTF_8), null, "test")
                .ackCode()).isEqualTo("AA");
        return jdbc.queryForObject("select id from message where control_id = ?", Long.class, controlId);
    }

    String status(long messageId, String destination) {
        return jdbc.queryForObject("select status from outbox where message_id = ? and destination = ?", String.class,
                messageId, destination);
    }
}
