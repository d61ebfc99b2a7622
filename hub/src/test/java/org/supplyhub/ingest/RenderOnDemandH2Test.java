package org.supplyhub.ingest;

import ca.uhn.fhir.parser.IParser;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.SupplyDelivery;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.admin.MessageQueries;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.delivery.DestinationPauses;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.journal.crypto.Column;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.mapping.FhirConfiguration;
import org.supplyhub.mapping.FhirMapper;
import org.supplyhub.support.Await;
import org.supplyhub.support.FhirTestServer;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * FHIR rendered on demand (issue 16): intake journals the usage and its render spec, no resources;
 * the admin API and FHIR delivery (a file destination and a real HAPI RestfulServer) render the same
 * JSON the old intake path stored, byte for byte; a profile whose systems change after intake still
 * renders the message as at intake; a message journaled with its resources (before issue 16) is shown
 * and delivered from them.
 */
@SpringBootTest
@DirtiesContext
class RenderOnDemandH2Test {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    /** The shipped profiles, copied: this test edits one. */
    static final Path MAPPINGS = copyOfMappings();
    static final String TX = "https://fhir.mercy.example.org/sid/or-transaction";
    static final String TX_CHANGED = "https://fhir.mercy.example.org/sid/or-transaction-2027";
    static FhirTestServer server;

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    IntakeService intake;
    @Autowired
    RunningConfig running;
    @Autowired
    MessageQueries queries;
    @Autowired
    JournalKeys keys;
    @Autowired
    DestinationPauses pauses;
    @Autowired
    ConfigReloader reloader;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        server = new FhirTestServer();
        // a profile of its own, so changing its systems touches no other interface
        Files.copy(MAPPINGS.resolve("mercy-or.yaml"), MAPPINGS.resolve("render-or.yaml"));
        Files.writeString(INTERFACES.routesDir.resolve("render.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: render-or }
                      - { name: mapping, value: render-or.yaml }
                      - { name: destinations, value: "render-file, render-fhir" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: render-file }
                      - { name: connector, value: file }
                      - { name: output, value: fhir }
                      - { name: directory, value: "%s/render-file" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: render-fhir }
                      - { name: connector, value: fhir }
                      - { name: output, value: fhir }
                      - { name: url, value: "%s" }
                      - { name: initialBackoff, value: 50ms }
                """.formatted(INTERFACES.outDir, server.baseUrl()));
        TestDatabases.h2().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.routes-dir", INTERFACES.routesDir::toString);
        registry.add("hub.mappings-dir", MAPPINGS::toString);
    }

    static Path copyOfMappings() {
        try {
            Path shipped = TestInterfaces.projectRoot().resolve("mappings");
            Path copy = Files.createTempDirectory("hub-mappings");
            try (java.util.stream.Stream<Path> files = Files.walk(shipped)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    Path target = copy.resolve(shipped.relativize(f).toString());
                    Files.createDirectories(target.getParent());
                    Files.copy(f, target);
                }
            }
            return copy;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
    }

    @Test
    void aJournaledMessageRendersByteForByteWhatTheOldIntakePathStored() throws Exception {
        String er7 = sample("RENDER-1");
        // what intake journaled before issue 16: the translated usage's resources, encoded one by one,
        // numbered by the SupplyDelivery that starts each line
        MessageTranslator.Accepted a = (MessageTranslator.Accepted) new MessageTranslator(new Hl7Support())
                .translate(running.get("render-or"), er7.getBytes(StandardCharsets.UTF_8), null);
        IParser parser = FhirConfiguration.newContext().newJsonParser();
        List<MessageQueries.Output> before = new ArrayList<>();
        int line = 0;
        for (Resource r : FhirMapper.toFhir(a.usage(), running.get("render-or").mapper().profile().systems())) {
            line += r instanceof SupplyDelivery ? 1 : 0;
            before.add(new MessageQueries.Output(line, r.fhirType(), r.getIdElement().getIdPart(), parser.encodeResourceToString(r)));
        }
        assertThat(before).hasSize(7);

        long id = accept(er7, "RENDER-1");

        assertThat(count("select count(*) from message_output where message_id = ?", id)).isZero();
        List<MessageQueries.Output> rendered = queries.outputs(id);
        assertThat(rendered).containsExactlyElementsOf(before);
        rendered.forEach(o -> R4Validator.assertValid(o.resource()));
        awaitDelivered(id);
        String bundle = Files.readString(bundleFile(id));
        for (MessageQueries.Output o : before) {
            assertThat(bundle).contains("\"resource\":" + o.resource());
        }
        assertThat(server.stored.keySet()).contains("SupplyDelivery|" + TX + "|TX-RENDER-1-1",
                "Device|" + TX + "|TX-RENDER-1-3", "ChargeItem|" + TX + "|TX-RENDER-1-3");
    }

    @Test
    void aMessageRendersAsAtIntakeAfterItsProfileSystemsChange() throws Exception {
        pauses.set("render-file", true, "test");
        pauses.set("render-fhir", true, "test");
        long before = accept(sample("RENDER-2"), "RENDER-2");
        List<MessageQueries.Output> atIntake = queries.outputs(before);
        assertThat(atIntake.get(0).resource()).contains(TX + "\"");
        Path profile = MAPPINGS.resolve("render-or.yaml");
        Files.writeString(profile, Files.readString(profile).replace("transaction: " + TX, "transaction: " + TX_CHANGED));
        try {
            assertThat(reloader.reload("test").problems()).isEmpty();
            assertThat(running.get("render-or").mapper().profile().systems().transaction()).isEqualTo(TX_CHANGED);
            long after = accept(sample("RENDER-3"), "RENDER-3");

            assertThat(queries.outputs(before)).as("rendered with the systems of its intake").isEqualTo(atIntake);
            assertThat(queries.outputs(after).get(0).resource()).contains(TX_CHANGED + "\"");
            pauses.set("render-file", false, "test");
            pauses.set("render-fhir", false, "test");
            awaitDelivered(before);
            awaitDelivered(after);
            assertThat(Files.readString(bundleFile(before))).contains("\"resource\":" + atIntake.get(0).resource());
            assertThat(server.stored).containsKey("SupplyDelivery|" + TX + "|TX-RENDER-2-1")
                    .containsKey("SupplyDelivery|" + TX_CHANGED + "|TX-RENDER-3-1")
                    .doesNotContainKey("SupplyDelivery|" + TX_CHANGED + "|TX-RENDER-2-1");
        } finally {
            Files.writeString(profile, Files.readString(profile).replace("transaction: " + TX_CHANGED, "transaction: " + TX));
            reloader.reload("test");
            pauses.set("render-file", false, "test");
            pauses.set("render-fhir", false, "test");
        }
    }

    @Test
    void aMessageJournaledWithItsResourcesIsShownAndDeliveredFromThem() throws Exception {
        pauses.set("render-file", true, "test");
        pauses.set("render-fhir", true, "test");
        try {
            long id = accept(sample("RENDER-4"), "RENDER-4");
            // as a hub before issue 16 stored them (sealed like every PHI column), rendered then with a
            // system the profile no longer has: what was rendered then is what is shown and delivered
            String old = "https://fhir.mercy.example.org/sid/or-transaction-2019";
            List<MessageQueries.Output> stored = queries.outputs(id).stream().map(o -> new MessageQueries.Output(
                    o.lineNo(), o.resourceType(), o.resourceId(), o.resource().replace(TX + "\"", old + "\""))).toList();
            for (MessageQueries.Output o : stored) {
                jdbc.update("insert into message_output (message_id, line_no, resource_type, resource_id, resource_json)"
                        + " values (?, ?, ?, ?, ?)", id, o.lineNo(), o.resourceType(), o.resourceId(),
                        keys.sealText(Column.OUTPUT_RESOURCE, o.resource()));
            }

            assertThat(queries.outputs(id)).isEqualTo(stored);
            pauses.set("render-file", false, "test");
            pauses.set("render-fhir", false, "test");
            awaitDelivered(id);
            String bundle = Files.readString(bundleFile(id));
            for (MessageQueries.Output o : stored) {
                assertThat(bundle).contains("\"resource\":" + o.resource());
            }
            assertThat(server.stored).containsKey("SupplyDelivery|" + old + "|TX-RENDER-4-1")
                    .doesNotContainKey("SupplyDelivery|" + TX + "|TX-RENDER-4-1");
        } finally {
            pauses.set("render-file", false, "test");
            pauses.set("render-fhir", false, "test");
        }
    }

    /** The Mercy sample under its own control id and transaction ids. */
    static String sample(String controlId) {
        return Samples.withControlId(Samples.read(Samples.MERCY), controlId).replace("TX-88120-", "TX-" + controlId + "-");
    }

    long accept(String er7, String controlId) {
        assertThat(intake.receive(running.get("render-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test").ackCode())
                .isEqualTo("AA");
        return jdbc.queryForObject("select id from message where control_id = ?", Long.class, controlId);
    }

    void awaitDelivered(long id) throws InterruptedException {
        Await.until(() -> count("select count(*) from outbox where message_id = ? and status = 'DELIVERED'", id) == 2, 30);
    }

    Path bundleFile(long id) {
        return INTERFACES.outDir.resolve("render-file/render-file-" + id + ".json");
    }

    int count(String sql, Object... args) {
        Integer n = jdbc.queryForObject(sql, Integer.class, args);
        return n == null ? 0 : n;
    }
}
