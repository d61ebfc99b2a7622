package org.supplyhub.delivery;

import org.supplyhub.support.JournalColumns;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.mapping.SupplyUsage.Use;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Service lines move no stock: a message of services only leaves inventory nothing to send, and its
 * row is settled DELIVERED (code NOTHING-OWED) without a file; a mixed message's stock file lists
 * its supplies only. The shipped file destinations, drained by the real worker on H2; the journaled
 * usage is made a service message the way a profile's classify rules will journal it.
 */
@SpringBootTest
@DirtiesContext
class NothingToSendTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.h2().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.delivery.enabled", () -> "false"); // this test drains the outbox itself
    }

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    JournalKeys keys;

    @Autowired
    ObjectMapper json;

    @Autowired
    IntakeService intake;

    @Autowired
    RunningConfig catalog;

    @Autowired
    DeliveryWorker worker;

    /** Accepts the Mercy sample under {@code controlId}, then journals its usage with lines made services. */
    long acceptedWithServices(String controlId, IntPredicate isService) throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId);
        assertThat(intake.receive(catalog.get("mercy-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test").ackCode())
                .isEqualTo("AA");
        long id = jdbc.queryForObject("select id from message where control_id = ?", Long.class, controlId);
        SupplyUsage u = json.readValue(new JournalColumns(jdbc, keys).text(Column.MESSAGE_USAGE,
                "select usage_json from message where id = ?", id), SupplyUsage.class);
        List<Line> lines = new ArrayList<>();
        for (int i = 0; i < u.lines().size(); i++) {
            lines.add(isService.test(i) ? u.lines().get(i).toBuilder().use(Use.SERVICE).build() : u.lines().get(i));
        }
        SupplyUsage services = new SupplyUsage(u.interfaceId(), u.sender(), u.controlId(), u.messageType(), u.patient(),
                u.patientAuthority(), u.patientIdType(), u.account(), u.encounter(), lines, u.skippedLines());
        jdbc.update("update message set usage_json = ? where id = ?", json.writeValueAsString(services), id);
        return id;
    }

    void drain(String destination) {
        DestinationDefinition d = catalog.destination(destination);
        while (worker.poll(d) > 0) {
            // until no row is due
        }
    }

    String status(long messageId, String destination) {
        return jdbc.queryForObject("select status from outbox where message_id = ? and destination = ?",
                String.class, messageId, destination);
    }

    List<String> attemptCodes(long messageId, String destination) {
        return jdbc.queryForList("select a.code from delivery_attempt a join outbox o on o.id = a.outbox_id"
                + " where o.message_id = ? and o.destination = ? order by a.attempt", String.class, messageId, destination);
    }

    @Test
    void aMessageOfServicesOnlyIsSettledWithoutAStockFile() throws Exception {
        long id = acceptedWithServices("SERVICES-ONLY-1", i -> true);
        drain("mercy-inventory");
        drain("mercy-billing");

        assertThat(status(id, "mercy-inventory")).isEqualTo("DELIVERED");
        assertThat(attemptCodes(id, "mercy-inventory")).containsExactly("NOTHING-OWED");
        assertThat(Files.exists(INTERFACES.outDir.resolve("inventory/mercy-inventory-" + id + ".json"))).isFalse();
        // billing is still owed the charges
        assertThat(status(id, "mercy-billing")).isEqualTo("DELIVERED");
        assertThat(Files.readString(INTERFACES.outDir.resolve("billing/mercy-billing-" + id + ".hl7")))
                .contains("FT1|1|TX-88120-1|", "FT1|2|TX-88120-3|");
    }

    @Test
    void aMixedMessagesStockFileListsItsSuppliesOnly() throws Exception {
        long id = acceptedWithServices("MIXED-1", i -> i == 1);
        drain("mercy-inventory");

        assertThat(status(id, "mercy-inventory")).isEqualTo("DELIVERED");
        Path file = INTERFACES.outDir.resolve("inventory/mercy-inventory-" + id + ".json");
        JsonNode movements = json.readTree(file.toFile()).path("movements");
        assertThat(movements).extracting(m -> m.path("transactionId").asText()).containsExactly("TX-88120-1", "TX-88120-3");
    }
}
