package org.supplyhub.delivery;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.junit.jupiter.api.Test;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.mapping.FhirConfiguration;
import org.supplyhub.mapping.FhirRenderer;
import org.supplyhub.mapping.RenderSpec;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.SupplyUsage.Flag;
import org.supplyhub.mapping.SupplyUsage.Implant;
import org.supplyhub.mapping.SupplyUsage.Kind;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.mapping.SupplyUsage.Ref;
import org.supplyhub.mapping.SupplyUsage.Use;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/**
 * Intake answers AA without building FHIR resources, so rendering must never fail later on a usage
 * the mapper produced (issue 16). The mapper bounds what reaches the renderer (dates: years
 * 1800–9999 and offsets within ±14:00; item code required; systems URIs); {@link
 * org.supplyhub.mapping.FhirMapper} itself throws nothing. Here usages at and beyond those bounds —
 * and fields the mapper never leaves empty left empty — render, survive the journal's JSON unchanged,
 * encode, and compose a transaction Bundle whose entries read what the old tree-based composition
 * read; those within the mapper's bounds are valid R4. The frame fuzz (FrameFuzzTest) renders every
 * message it got answered AA.
 */
class FhirRenderingTotalityTest {

    static final ObjectMapper JSON = Jackson2ObjectMapperBuilder.json()
            .featuresToDisable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS,
                    DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .build();
    static final FhirRenderer RENDERER = new FhirRenderer(FhirConfiguration.newContext(), JSON);
    static final Payloads PAYLOADS = new Payloads(new Hl7Support(), JSON);
    static final OffsetDateTime EARLIEST = OffsetDateTime.of(1800, 1, 1, 0, 0, 0, 0, ZoneOffset.ofHours(-14));
    static final OffsetDateTime LATEST = OffsetDateTime.of(9999, 12, 31, 23, 59, 59, 999_000_000, ZoneOffset.ofHours(14));

    final InterfaceDefinition mercy;
    final SupplyUsage sample;
    final RenderSpec spec;

    FhirRenderingTotalityTest() {
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        mercy = InterfaceCatalog.load(interfaces.routesDir, interfaces.mappingsDir).get("mercy-or");
        MessageTranslator.Accepted a = (MessageTranslator.Accepted) new MessageTranslator(new Hl7Support())
                .translate(mercy, Samples.read(Samples.MERCY).getBytes(StandardCharsets.UTF_8), null);
        sample = a.usage();
        spec = a.render();
    }

    SupplyUsage edited(UnaryOperator<Line.Builder> edit, List<Flag> flags) {
        List<Line> lines = sample.lines().stream().map(l -> edit.apply(l.toBuilder()).build()).toList();
        return new SupplyUsage(sample.interfaceId(), sample.sender(), sample.controlId(), sample.messageType(),
                sample.patient(), sample.patientAuthority(), sample.patientIdType(), sample.account(), sample.encounter(),
                lines, sample.skippedLines(), flags);
    }

    static Implant implant(String udi, LocalDate expiry, LocalDate manufactured, String text) {
        return new Implant(udi, "http://hl7.org/fhir/NamingSystem/gs1-di", "00889024123458", text, text + "-S",
                expiry, manufactured, text, text, text, text);
    }

    /** Usages within what the mapper can produce: each must render to valid R4. */
    Map<String, SupplyUsage> withinBounds() {
        String unusual = "Ünïcödé 🦴 \"quoted\" \\ <b>&amp;</b> \u00a0" + "x".repeat(2000);
        Map<String, SupplyUsage> u = new LinkedHashMap<>();
        u.put("sample", sample);
        for (ChronoUnit p : List.of(ChronoUnit.DAYS, ChronoUnit.HOURS, ChronoUnit.MINUTES, ChronoUnit.SECONDS, ChronoUnit.MILLIS)) {
            u.put("earliest " + p, edited(b -> b.serviceDate(EARLIEST, p).enteredDate(EARLIEST, p), List.of()));
            u.put("latest " + p, edited(b -> b.serviceDate(LATEST, p).enteredDate(LATEST, p), List.of()));
        }
        u.put("no dates", edited(b -> b.serviceDate(null, null).enteredDate(null, null), List.of()));
        u.put("implants at the date limits, GS1 AIDC and odd text", edited(b -> b.implants(List.of(
                implant("\u001d0100889024123458\u001d17999912", LocalDate.of(9999, 12, 31), LocalDate.of(1800, 1, 1), unusual),
                implant("(01)00889024123458(21)X", null, null, "A"),
                new Implant(null, null, null, null, null, null, null, null, null, null, null))), List.of()));
        u.put("credits", edited(b -> b.kind(Kind.CREDIT).originalTransactionId("TX-ORIG|&# 1")
                .quantity(new BigDecimal("-1.000")).extendedPrice(new BigDecimal("-1E+3")), List.of()));
        u.put("services without item master", edited(b -> b.use(Use.SERVICE).master(null)
                .itemSystemUri("http://www.ama-assn.org/go/cpt").itemText(unusual)
                .ndc(SupplyUsage.Coding.of(null, "0409-4888-02", unusual)).notes(List.of(unusual, "")), List.of()));
        List<Flag> flags = new ArrayList<>();
        for (String reason : List.of("expired", "recalled", "di-mismatch", "serial-other-patient", "serial-reused")) {
            flags.add(new Flag("suspect", reason, 3, 0, "high", unusual, true, LATEST, "Z-0412/2026 #1"));
        }
        flags.add(new Flag("expired", "expired", 3, 7, "low", "no such device", false, EARLIEST, null));
        flags.add(new Flag("expired", "expired", 1, 0, null, null, false, null, null));
        u.put("every flag", edited(b -> b, flags));
        return u;
    }

    /** Usages the mapper never produces (fields it requires left empty): they must still render. */
    Map<String, SupplyUsage> beyondBounds() {
        Map<String, SupplyUsage> u = new LinkedHashMap<>();
        u.put("nothing but an index", edited(b -> Line.builder().index(1).kind(null).use(null), List.of()));
        u.put("no item, no quantity, no ids", edited(b -> b.item(null).quantity(null).transactionId(null)
                .master(null).use(Use.SERVICE), List.of()));
        u.put("flags of unknown or no reason", edited(b -> b, List.of(
                new Flag(null, null, 3, 0, null, null, false, null, null),
                new Flag("new-check", "new-reason", 3, -1, "unheard-of", null, false, null, "?"))));
        u.put("no patient", new SupplyUsage(sample.interfaceId(), null, null, null, null, null, null, null, null,
                sample.lines(), null, null));
        u.put("a line with a reference of nulls", edited(b -> b.location(new Ref(null, null)).performer(new Ref(null, null))
                .reasons(List.of(new SupplyUsage.Coding(null, null, null))), List.of()));
        return u;
    }

    @Test
    void everyUsageWithinTheMappersBoundsRendersToValidR4ThroughTheJournal() throws Exception {
        int resources = 0;
        for (Map.Entry<String, SupplyUsage> e : withinBounds().entrySet()) {
            List<String> rendered = renderAndCompose(e.getKey(), e.getValue());
            for (String json : rendered) {
                R4Validator.assertValid(json);
            }
            resources += rendered.size();
        }
        assertThat(resources).isGreaterThan(100);
    }

    @Test
    void usagesTheMapperNeverProducesStillRender() {
        beyondBounds().forEach((name, usage) -> assertThatCode(() -> renderAndCompose(name, usage)).as(name)
                .doesNotThrowAnyException());
    }

    /** Renders directly and from the journaled JSON (the same), then composes the FHIR payload. */
    List<String> renderAndCompose(String name, SupplyUsage usage) throws Exception {
        List<String> direct = RENDERER.json(usage, spec);
        List<String> journaled = RENDERER.render(spec.journal(JSON.writeValueAsString(usage))).stream()
                .map(FhirRenderer.Rendered::json).toList();
        assertThat(journaled).as("%s: rendered from the journal as at intake", name).isEqualTo(direct);
        // this node's delivery takes the usage as mapped (OpenedUsages), another node or a restart parses
        // the journal's JSON: both must be the same usage, so every payload is the same
        String journalJson = spec.journal(JSON.writerFor(SupplyUsage.class).writeValueAsString(usage));
        assertThat(JSON.readValue(journalJson, SupplyUsage.class)).as("%s: the journal's JSON read back", name)
                .isEqualTo(usage);
        assertThat(RenderSpec.read(journalJson)).isEqualTo(spec);
        JsonNode bundle = JSON.readTree(PAYLOADS.transaction(direct));
        assertThat(bundle.path("entry")).as(name).hasSize(direct.size());
        for (int i = 0; i < direct.size(); i++) {
            JsonNode tree = JSON.readTree(direct.get(i));
            JsonNode entry = bundle.path("entry").get(i);
            // what the Bundle composition read with a tree per resource before issue 16
            assertThat(entry.path("fullUrl").asText()).isEqualTo("urn:uuid:" + tree.path("id").asText());
            assertThat(entry.path("request").path("url").asText()).isEqualTo(tree.path("resourceType").asText());
            JsonNode id = tree.path("identifier").path(0);
            assertThat(entry.path("request").path("ifNoneExist").isMissingNode()).isEqualTo(!id.hasNonNull("value"));
            if (id.hasNonNull("value")) {
                assertThat(entry.path("request").path("ifNoneExist").asText()).isEqualTo(FhirConnector.identifierCondition(
                        id.path("system").asText(""), id.get("value").asText()));
            }
            assertThat(entry.path("resource")).isEqualTo(tree);
        }
        return direct;
    }
}
