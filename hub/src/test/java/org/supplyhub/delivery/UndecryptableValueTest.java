package org.supplyhub.delivery;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.admin.MessageQueries;
import org.supplyhub.journal.OpenedUsages;
import org.supplyhub.journal.crypto.Aead;
import org.supplyhub.journal.crypto.Column;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.support.Await;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One journaled value that cannot be decrypted (changed ciphertext, a data key gone) fails its own row,
 * DEAD at once with the exception's class and no content, while the other rows of the same destination
 * are delivered: decryption happens per row in the worker, never inside the claim.
 */
@SpringBootTest
@DirtiesContext
class UndecryptableValueTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    IntakeService intake;

    @Autowired
    RunningConfig catalog;

    @Autowired
    DestinationPauses pauses;

    @Autowired
    MessageQueries queries;

    @Autowired
    JournalKeys keys;

    @Autowired
    OpenedUsages opened;

    @Autowired
    com.fasterxml.jackson.databind.ObjectMapper json;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        Files.writeString(INTERFACES.routesDir.resolve("undecryptable.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: enc-or }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: destinations, value: "enc-stock, enc-fhir" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: enc-stock }
                      - { name: connector, value: file }
                      - { name: output, value: stock }
                      - { name: directory, value: "%1$s/enc-stock" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: enc-fhir }
                      - { name: connector, value: file }
                      - { name: output, value: fhir }
                      - { name: directory, value: "%1$s/enc-fhir" }
                """.formatted(INTERFACES.outDir));
        TestDatabases.h2().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.journal.encryption.enabled", () -> "true");
    }

    @Test
    void aTamperedValueKillsItsRowOnlyAndTheDestinationDeliversTheRest() throws Exception {
        // held until the values are changed, as rows waiting in a backlog would be
        pauses.set("enc-stock", true, "test");
        pauses.set("enc-fhir", true, "test");
        long ok = accept("ENC-OK");
        long usageTampered = accept("ENC-USAGE");
        long resourceTampered = accept("ENC-FHIR");
        storedAsBefore(resourceTampered); // a message journaled with its resources, before issue 16

        String usage = jdbc.queryForObject("select usage_json from message where id = ?", String.class, usageTampered);
        assertThat(usage).as("encryption is on").startsWith(Aead.TEXT_PREFIX);
        // the journal left each usage opened for this node's delivery, for exactly the value it stored, and
        // the same usage as the stored value opens to with the hub's own ObjectMapper
        assertThat(opened.get(usageTampered, usage).usage()).isEqualTo(json.readValue(
                keys.openText(Column.MESSAGE_USAGE, usage), org.supplyhub.mapping.SupplyUsage.class));
        assertThat(opened.get(usageTampered, flip(usage))).isNull();
        jdbc.update("update message set usage_json = ? where id = ?", flip(usage), usageTampered);
        long outputId = jdbc.queryForObject("select min(id) from message_output where message_id = ?", Long.class,
                resourceTampered);
        String resource = jdbc.queryForObject("select resource_json from message_output where id = ?", String.class,
                outputId);
        assertThat(resource).startsWith(Aead.TEXT_PREFIX);
        jdbc.update("update message_output set resource_json = ? where id = ?", flip(resource), outputId);

        pauses.set("enc-stock", false, "test");
        pauses.set("enc-fhir", false, "test");
        Await.until(() -> settled(List.of(ok, usageTampered, resourceTampered)), 30);

        assertThat(status(ok, "enc-stock")).isEqualTo("DELIVERED");
        assertThat(status(ok, "enc-fhir")).isEqualTo("DELIVERED");
        assertThat(status(usageTampered, "enc-stock")).isEqualTo("DEAD");
        assertThat(status(usageTampered, "enc-fhir")).isEqualTo("DEAD");
        assertThat(status(resourceTampered, "enc-stock")).as("its usage is intact").isEqualTo("DELIVERED");
        assertThat(status(resourceTampered, "enc-fhir")).isEqualTo("DEAD");

        for (long id : List.of(usageTampered, resourceTampered)) {
            List<String> dead = jdbc.queryForList("select a.code || ' ' || a.detail from delivery_attempt a join outbox o"
                    + " on o.id = a.outbox_id where o.message_id = ? and a.outcome = 'DEAD'", String.class, id);
            assertThat(dead).isNotEmpty().allSatisfy(d -> assertThat(d)
                    .isEqualTo("DECRYPT cannot decrypt: TamperedValueException"));
        }
        // one attempt each: nothing was claimed again and rolled back, nothing left leased
        assertThat(jdbc.queryForObject("select count(*) from outbox where message_id in (?, ?, ?) and attempts <> 1",
                Integer.class, ok, usageTampered, resourceTampered)).isZero();
    }

    /** The message's resources stored with it, sealed, as a hub before issue 16 journaled them. */
    void storedAsBefore(long messageId) {
        for (MessageQueries.Output o : queries.outputs(messageId)) {
            jdbc.update("insert into message_output (message_id, line_no, resource_type, resource_id, resource_json)"
                    + " values (?, ?, ?, ?, ?)", messageId, o.lineNo(), o.resourceType(), o.resourceId(),
                    keys.sealText(Column.OUTPUT_RESOURCE, o.resource()));
        }
    }

    /** One base64 character of the ciphertext changed (the prefix kept: still a sealed value). */
    static String flip(String sealed) {
        int i = sealed.length() / 2;
        char c = sealed.charAt(i) == 'A' ? 'B' : 'A';
        return sealed.substring(0, i) + c + sealed.substring(i + 1);
    }

    boolean settled(List<Long> ids) {
        return jdbc.queryForObject("select count(*) from outbox where message_id in (?, ?, ?) and status = 'PENDING'",
                Integer.class, ids.toArray()) == 0;
    }

    String status(long messageId, String destination) {
        return jdbc.queryForObject("select status from outbox where message_id = ? and destination = ?", String.class,
                messageId, destination);
    }

    long accept(String controlId) {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId)
                .replace("TX-88120-", "TX-" + controlId + "-");
        assertThat(intake.receive(catalog.get("enc-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test")
                .ackCode()).isEqualTo("AA");
        return jdbc.queryForObject("select id from message where control_id = ?", Long.class, controlId);
    }
}
