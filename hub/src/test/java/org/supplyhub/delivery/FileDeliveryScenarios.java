package org.supplyhub.delivery;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.v251.message.DFT_P03;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.supplyhub.admin.MessageQueries;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.support.Await;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The shipped file destinations: charges as DFT^P03, stock movements as JSON, FHIR transactions; a
 * destination that cannot be written is retried with backoff, then dead, with every attempt
 * journaled. Run on PostgreSQL ({@link FileDeliveryTest}) and on the embedded H2 of the default run
 * ({@link FileDeliveryH2Test}).
 */
@SpringBootTest
@DirtiesContext
abstract class FileDeliveryScenarios {

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    ObjectMapper json;

    @Autowired
    IntakeService intake;

    @Autowired
    RunningConfig catalog;

    @Autowired
    MessageQueries messages;

    @Autowired
    MeterRegistry meters;

    /** The shipped interfaces, with lakeside-inventory writing below a regular file: every attempt fails. */
    static TestInterfaces withUnwritableInventory() {
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        try {
            Path blocked = Files.createTempFile("not-a-directory", ".txt");
            Path destinations = interfaces.routesDir.resolve("destinations.yaml");
            String text = Files.readString(destinations).replace(
                    "value: " + interfaces.outDir + "/inventory\n- templatedRoute:\n    routeTemplateRef: outbox-delivery\n    routeId: deliver-fhir-server",
                    "value: " + blocked + "/inventory\n      - name: maxAttempts\n        value: \"3\"\n"
                            + "      - name: initialBackoff\n        value: 50ms\n"
                            + "- templatedRoute:\n    routeTemplateRef: outbox-delivery\n    routeId: deliver-fhir-server");
            Files.writeString(destinations, text);
            assertThat(text).contains(blocked + "/inventory");
            Files.writeString(interfaces.routesDir.resolve("aged.yaml"), """
                    - templatedRoute:
                        routeTemplateRef: hl7-http-inbound
                        parameters:
                          - { name: interfaceId, value: aged-or }
                          - { name: mapping, value: mercy-or.yaml }
                          - { name: destinations, value: aged-inventory }
                    - templatedRoute:
                        routeTemplateRef: outbox-delivery
                        parameters:
                          - { name: destination, value: aged-inventory }
                          - { name: connector, value: file }
                          - { name: output, value: stock }
                          - { name: directory, value: "%s/aged" }
                          - { name: maxAge, value: 1h }
                          - { name: initialBackoff, value: 1s }
                    """.formatted(blocked));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return interfaces;
    }

    abstract TestInterfaces interfaces();

    @Test
    void chargesStockAndFhirReachTheirFiles() throws Exception {
        try (Mllp mllp = new Mllp(interfaces().ports.get("mercy-or"))) {
            assertThat(mllp.send(Samples.read(Samples.MERCY), StandardCharsets.UTF_8)).contains("MSA|AA");
            assertThat(mllp.send(Samples.read(Samples.MERCY_CREDIT), StandardCharsets.UTF_8)).contains("MSA|AA");
        }
        long charge = messageId("OR20261114093512001");
        long credit = messageId("OR20261114101044007");
        Path billing = interfaces().outDir.resolve("billing/mercy-billing-" + charge + ".hl7");
        Path stock = interfaces().outDir.resolve("inventory/mercy-inventory-" + charge + ".json");
        Path returned = interfaces().outDir.resolve("inventory/mercy-inventory-" + credit + ".json");
        Path fhir = interfaces().outDir.resolve("fhir/fhir-server-" + charge + ".json");
        await(() -> Files.exists(billing) && Files.exists(stock) && Files.exists(returned) && Files.exists(fhir));

        HapiContext hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
        DFT_P03 dft = (DFT_P03) hapi.getPipeParser().parse(Files.readString(billing));
        assertThat(dft.getFINANCIALReps()).as("one FT1 per chargeable line: not the sponges").isEqualTo(2);
        assertThat(dft.getFINANCIAL(0).getFT1().getTransactionID().getValue()).isEqualTo("TX-88120-1");
        assertThat(dft.getFINANCIAL(0).getFT1().getTransactionCode().getIdentifier().getValue()).isEqualTo("270004512");
        assertThat(dft.getFINANCIAL(1).getFT1().getTransactionCode().getAlternateIdentifier().getValue()).isEqualTo("C1776");
        assertThat(dft.getFINANCIAL(1).getFT1().getTransactionType().getValue()).isEqualTo("CG");
        assertThat(dft.getFINANCIAL(0).getFT1().getTransactionDate().getRangeStartDateTime().getTime().getValue())
                .isEqualTo("20261114091000-0600");
        assertThat(dft.getPID().getPatientIdentifierList(0).getIDNumber().getValue()).isEqualTo("MRN448812");
        hapi.close();

        JsonNode movements = json.readTree(stock.toFile()).get("movements");
        assertThat(movements).hasSize(3);
        assertThat(movements.get(0).get("inventoryItemId").asText()).isEqualTo("INV-100231");
        assertThat(movements.get(0).get("quantity").decimalValue()).isEqualByComparingTo("-2");
        assertThat(movements.get(2).get("lot").asText()).isEqualTo("LOT7781A");
        JsonNode back = json.readTree(returned.toFile()).get("movements").get(0);
        assertThat(back.get("quantity").decimalValue()).as("a credit puts stock back").isEqualByComparingTo("1");
        assertThat(back.get("originalTransactionId").asText()).isEqualTo("TX-88120-2");

        Bundle bundle = FhirContext.forR4Cached().newJsonParser().parseResource(Bundle.class, Files.readString(fhir));
        R4Validator.assertValid(bundle);
        assertThat(bundle.getEntry()).hasSize(7);
        assertThat(bundle.getEntryFirstRep().getRequest().getIfNoneExist())
                .isEqualTo("identifier=https://fhir.mercy.example.org/sid/or-transaction|TX-88120-1");

        // the credit returns only a non-chargeable sponge: billing is owed nothing, and says so
        await(() -> status(credit, "mercy-billing").equals("DELIVERED"));
        assertThat(Files.exists(interfaces().outDir.resolve("billing/mercy-billing-" + credit + ".hl7"))).isFalse();
    }

    @Test
    void anUnwritableDestinationIsRetriedThenDead() throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.LAKESIDE), "DEAD-1");
        try (Mllp mllp = new Mllp(interfaces().ports.get("lakeside-cath"))) {
            assertThat(mllp.send(er7, StandardCharsets.UTF_8)).contains("MSA|AA");
        }
        long id = messageId("DEAD-1");
        await(() -> status(id, "lakeside-inventory").equals("DEAD"));
        List<Map<String, Object>> attempts = jdbc.queryForList("select a.attempt, a.outcome, a.code, a.detail"
                + " from delivery_attempt a join outbox o on o.id = a.outbox_id where o.message_id = ?"
                + " and o.destination = 'lakeside-inventory' order by a.attempt", id);
        assertThat(attempts).extracting(a -> a.get("outcome")).containsExactly("RETRY", "RETRY", "DEAD");
        assertThat(attempts).extracting(a -> a.get("code")).containsOnly("IO");
        assertThat(meters.get("hub.outbox.dead").tag("destination", "lakeside-inventory").gauge().value())
                .as("dead rows waiting for a replay").isGreaterThanOrEqualTo(1);
        assertThat(jdbc.queryForObject("select last_error from outbox where message_id = ? and destination = ?",
                String.class, id, "lakeside-inventory")).contains("cannot write");
        // the other destinations of the same message are not held up
        await(() -> status(id, "lakeside-billing").equals("DELIVERED") && status(id, "fhir-server").equals("DELIVERED"));
    }

    @Test
    void aFailingRowOlderThanMaxAgeIsDeadAtItsNextFailure() throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "AGED-1");
        assertThat(intake.receive(catalog.get("aged-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test").ackCode())
                .isEqualTo("AA");
        long id = messageId("AGED-1");
        // as if it had been journaled two hours ago, before a long outage
        jdbc.update("update outbox set created_at = ? where message_id = ? and destination = 'aged-inventory'",
                Timestamp.from(Instant.now().minus(Duration.ofHours(2))), id);

        await(() -> status(id, "aged-inventory").equals("DEAD"));
        List<String> outcomes = jdbc.queryForList("select a.outcome from delivery_attempt a join outbox o"
                + " on o.id = a.outbox_id where o.message_id = ? and o.destination = 'aged-inventory' order by a.attempt",
                String.class, id);
        assertThat(outcomes).as("dead by age, long before maxAttempts (100)").hasSizeLessThanOrEqualTo(2).endsWith("DEAD");
        assertThat(jdbc.queryForObject("select last_error from outbox where message_id = ? and destination = ?",
                String.class, id, "aged-inventory")).contains("cannot write").contains("older than maxAge PT1H");

        // a replay starts the clock again: the next failure is a retry, not dead at once
        assertThat(messages.replay(id, "aged-inventory")).isEqualTo(1);
        await(() -> jdbc.queryForObject("select count(*) from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.message_id = ? and o.destination = 'aged-inventory'", Integer.class, id) > outcomes.size());
        assertThat(jdbc.queryForObject("select a.outcome from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.message_id = ? and o.destination = 'aged-inventory' order by a.id desc limit 1",
                String.class, id)).isEqualTo("RETRY");
    }

    long messageId(String controlId) {
        return jdbc.queryForObject("select id from message where control_id = ?", Long.class, controlId);
    }

    String status(long messageId, String destination) {
        return jdbc.queryForObject("select status from outbox where message_id = ? and destination = ?",
                String.class, messageId, destination);
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        Await.until(condition);
    }

    static void await(BooleanSupplier condition, int seconds) throws InterruptedException {
        Await.until(condition, seconds);
    }
}
