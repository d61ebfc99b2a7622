package org.supplyhub.mapping;

import ca.uhn.fhir.parser.IParser;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.SupplyDelivery;
import org.junit.jupiter.api.Test;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Rendering on demand (issue 16): the render spec journaled with the usage, and every shipped sample and
 * mapping test message rendered from its journaled JSON exactly as the old intake path encoded it.
 */
class FhirRendererTest {

    /** Configured like the application's (application.yml: ISO dates, the sender's offset kept). */
    static final ObjectMapper JSON = Jackson2ObjectMapperBuilder.json()
            .featuresToDisable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS,
                    DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .build();
    static final FhirRenderer RENDERER = new FhirRenderer(FhirConfiguration.newContext(), JSON);

    @Test
    void theSpecIsTheUsagesFirstPropertyAndReadsBackAlone() throws Exception {
        RenderSpec spec = RenderSpec.current(MappingSupport.MERCY.profile());
        assertThat(spec).isEqualTo(new RenderSpec(1, new RenderSpec.Systems(
                "https://fhir.mercy.example.org/sid/or-transaction", "https://fhir.mercy.example.org/sid/cdm",
                "https://fhir.mercy.example.org/sid/cdm")));
        SupplyUsage usage = MappingSupport.map(MappingSupport.MERCY, MappingSupport.mercy());
        String journaled = spec.journal(JSON.writeValueAsString(usage));

        assertThat(journaled).startsWith("{\"render\":{\"version\":1,\"systems\":{\"transaction\":"
                + "\"https://fhir.mercy.example.org/sid/or-transaction\",");
        assertThat(RenderSpec.read(journaled)).isEqualTo(spec);
        // the hub's readers of the usage (delivery, replay, try) ignore it
        assertThat(JSON.readValue(journaled, SupplyUsage.class)).isEqualTo(usage);
        // journaled before issue 16: no spec
        assertThat(RenderSpec.read(JSON.writeValueAsString(usage))).isNull();
        // systems a profile leaves out are left out, and an empty object stays valid JSON
        assertThat(new RenderSpec(1, null).journal("{ }")).isEqualTo("{\"render\":{\"version\":1,\"systems\":{}} }");
        assertThat(RenderSpec.read("{\"render\":{\"version\":1,\"systems\":{}} }")).isEqualTo(RenderSpec.UNVERSIONED);
    }

    @Test
    void aVersionThisHubDoesNotKnowIsATypedError() throws Exception {
        SupplyUsage usage = MappingSupport.map(MappingSupport.MERCY, MappingSupport.mercy());
        String journaled = new RenderSpec(2, null).journal(JSON.writeValueAsString(usage));
        assertThatThrownBy(() -> RENDERER.render(journaled)).isInstanceOf(FhirRenderer.UnknownVersionException.class)
                .hasMessageContaining("render version 2");
    }

    @Test
    void theSpecNotTheCurrentProfileDecidesTheSystems() throws Exception {
        SupplyUsage usage = MappingSupport.map(MappingSupport.MERCY, MappingSupport.mercy());
        String usageJson = JSON.writeValueAsString(usage);
        RenderSpec atIntake = RenderSpec.current(MappingSupport.MERCY.profile());
        RenderSpec later = new RenderSpec(1, new RenderSpec.Systems("urn:example:changed", null, null));

        List<FhirRenderer.Rendered> then = RENDERER.render(atIntake.journal(usageJson));
        List<FhirRenderer.Rendered> now = RENDERER.render(later.journal(usageJson));
        assertThat(then.get(0).json()).contains("\"system\":\"https://fhir.mercy.example.org/sid/or-transaction\"");
        assertThat(now.get(0).json()).contains("\"system\":\"urn:example:changed\"");
        // ids are name-based on interface, transaction and type: the same either way
        assertThat(now).extracting(FhirRenderer.Rendered::resourceId)
                .containsExactlyElementsOf(then.stream().map(FhirRenderer.Rendered::resourceId).toList());
    }

    /**
     * Every sample and mapping test message of the shipped interfaces, taken in as intake does: its
     * journaled usage renders byte for byte what intake encoded and stored before issue 16.
     */
    @Test
    void everyShippedMessageRendersFromItsJournaledUsageAsTheOldIntakeStoredIt() throws Exception {
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        InterfaceCatalog catalog = InterfaceCatalog.load(interfaces.routesDir, interfaces.mappingsDir);
        MessageTranslator translator = new MessageTranslator(new Hl7Support());
        IParser old = FhirConfiguration.newContext().newJsonParser();
        List<String[]> messages = new ArrayList<>(); // interface, ER7
        messages.add(new String[] {"mercy-or", Samples.read(Samples.MERCY)});
        messages.add(new String[] {"mercy-or", Samples.read(Samples.MERCY_CREDIT)});
        messages.add(new String[] {"lakeside-cath", Samples.read(Samples.LAKESIDE)});
        Path tests = TestInterfaces.projectRoot().resolve("mappings/tests");
        try (Stream<Path> files = Files.walk(tests)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".hl7")).sorted().toList()) {
                String text = Files.readString(f, StandardCharsets.UTF_8).replace("\r\n", "\r").replace('\n', '\r');
                for (String er7 : text.split("\r(?=MSH\\|)")) {
                    messages.add(new String[] {f.getParent().getFileName().toString(), er7.strip()});
                }
            }
        }
        int resources = 0;
        int accepted = 0;
        long fallbacks = RENDERER.hapiFallbacks();
        for (String[] m : messages) {
            if (!(translator.translate(catalog.get(m[0]), m[1].getBytes(StandardCharsets.UTF_8), null)
                    instanceof MessageTranslator.Accepted a)) {
                continue;
            }
            accepted++;
            List<FhirRenderer.Rendered> before = new ArrayList<>();
            int line = 0;
            for (Resource r : FhirMapper.toFhir(a.usage(), catalog.get(m[0]).mapper().profile().systems())) {
                line += r instanceof SupplyDelivery ? 1 : 0;
                before.add(new FhirRenderer.Rendered(line, r.fhirType(), r.getIdElement().getIdPart(),
                        old.encodeResourceToString(r)));
            }
            String journaled = a.render().journal(JSON.writeValueAsString(a.usage()));
            List<FhirRenderer.Rendered> now = RENDERER.render(journaled);

            assertThat(now).extracting(FhirRenderer.Rendered::json).as("%s %s", m[0], Samples.controlId(m[1]))
                    .containsExactlyElementsOf(before.stream().map(FhirRenderer.Rendered::json).toList());
            assertThat(now).extracting(FhirRenderer.Rendered::resourceType, FhirRenderer.Rendered::resourceId)
                    .containsExactlyElementsOf(before.stream().map(r -> org.assertj.core.groups.Tuple.tuple(
                            r.resourceType(), r.resourceId())).toList());
            if (a.usage().lines().stream().allMatch(SupplyUsage.Line::movesStock)) {
                // the old numbering counted SupplyDeliveries: the same wherever every line has one
                assertThat(now).extracting(FhirRenderer.Rendered::line)
                        .containsExactlyElementsOf(before.stream().map(FhirRenderer.Rendered::line).toList());
            }
            // each resource is numbered by the position of its line among the usage's lines (services too)
            assertThat(now.stream().map(FhirRenderer.Rendered::line).distinct().toList())
                    .containsExactlyElementsOf(java.util.stream.IntStream.rangeClosed(1, a.usage().lines().size()).boxed().toList());
            resources += now.size();
        }
        assertThat(accepted).isGreaterThanOrEqualTo(8);
        assertThat(resources).isGreaterThan(40);
        // written directly (FhirJsonWriter), none of them through HAPI's encoder
        assertThat(RENDERER.hapiFallbacks()).isEqualTo(fallbacks);
    }
}
