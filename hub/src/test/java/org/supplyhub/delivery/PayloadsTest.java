package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import ca.uhn.hl7v2.model.v251.message.DFT_P03;
import ca.uhn.hl7v2.util.Terser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.mapping.ProfileLoader;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.UsageMapper;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.supplyhub.mapping.FhirMapper;
import org.supplyhub.mapping.SupplyUsage.Implant;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.mapping.SupplyUsage.Ref;
import org.supplyhub.mapping.SupplyUsage.Use;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What billing and inventory get for the samples, rendered from the journaled usage (issue 9 item
 * 14); service lines, several devices and the FT1 fields of issue 11.
 */
class PayloadsTest {

    static final Path ROOT = TestInterfaces.projectRoot();
    static final Hl7Support HL7 = new Hl7Support();
    /** Built like Spring Boot's (java.time as ISO text). */
    static final ObjectMapper JSON = Jackson2ObjectMapperBuilder.json()
            .featuresToDisable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).build();
    static final UsageMapper MERCY = new ProfileLoader(ROOT.resolve("mappings")).load("mercy-or", "mercy-or.yaml");
    static final InterfaceCatalog CATALOG = InterfaceCatalog.load(ROOT.resolve("routes"), ROOT.resolve("mappings"));

    final Payloads payloads = new Payloads(HL7, JSON);

    /** Mapped, then through the journal's JSON as delivery reads it. */
    static SupplyUsage journaled(String er7) throws Exception {
        SupplyUsage usage = MERCY.map(HL7.parse(er7), "ORMGR^MERCY_OR", Samples.controlId(er7), "DFT^P03");
        return JSON.readValue(JSON.writeValueAsString(usage), SupplyUsage.class);
    }

    static String withFt1(String er7, int field, String value) {
        String[] segments = er7.split("\r", -1);
        for (int i = 0; i < segments.length; i++) {
            if (segments[i].startsWith("FT1|")) {
                String[] f = segments[i].split("\\|", -1);
                f[field] = value;
                segments[i] = String.join("|", f);
            }
        }
        return String.join("\r", segments);
    }

    @Test
    void theBillingDftNamesItsReceiverAndKeepsThePatientIdentifier() throws Exception {
        SupplyUsage usage = journaled(Samples.read(Samples.MERCY));
        Connector.Payload p = payloads.render(CATALOG.destination("mercy-billing"), 7, 3, usage, java.util.List.of());
        Terser t = new Terser(HL7.parse(new String(p.body(), StandardCharsets.UTF_8)));
        assertThat(t.get("/MSH-5")).isEqualTo("PATACCT");
        assertThat(t.get("/MSH-6")).isEqualTo("MERCY");
        assertThat(t.get("/PID-3-1")).isEqualTo("MRN448812");
        assertThat(t.get("/PID-3-4")).isEqualTo("MERCY");
        assertThat(t.get("/PID-3-5")).isEqualTo("MR");
        assertThat(t.get("/FINANCIAL(0)/FT1-4")).isEqualTo("20261114091000-0600");
    }

    @Test
    void theReceivingApplicationDefaultsToTheDestinationName() throws Exception {
        DestinationDefinition configured = CATALOG.destination("mercy-billing");
        DestinationDefinition bare = new DestinationDefinition(configured.name(), configured.file(), configured.connector(),
                configured.output(), configured.directory(), configured.url(), configured.timeout(), configured.format(),
                configured.maxAttempts(), configured.maxAge(), configured.initialBackoff(), configured.maxBackoff(),
                configured.pollInterval(), configured.lease(), configured.batchSize(), configured.oauth2Registration(),
                configured.retryRejected(), null);
        DFT_P03 dft = payloads.billingDft(bare, 7, journaled(Samples.read(Samples.MERCY)),
                journaled(Samples.read(Samples.MERCY)).lines().subList(0, 1));
        assertThat(dft.getMSH().getReceivingApplication().getNamespaceID().getValue()).isEqualTo("mercy-billing");
        assertThat(dft.getMSH().getReceivingFacility().getNamespaceID().getValue()).isNull();
    }

    @Test
    void aDateOnlyServiceDateStaysADateForBillingAndInventory() throws Exception {
        SupplyUsage usage = journaled(withFt1(Samples.read(Samples.MERCY), 4, "20261114"));
        Connector.Payload charges = payloads.render(CATALOG.destination("mercy-billing"), 7, 3, usage, java.util.List.of());
        Terser t = new Terser(HL7.parse(new String(charges.body(), StandardCharsets.UTF_8)));
        assertThat(t.get("/FINANCIAL(0)/FT1-4")).isEqualTo("20261114");

        Connector.Payload stock = payloads.render(CATALOG.destination("mercy-inventory"), 8, 3, usage, java.util.List.of());
        JsonNode movements = JSON.readTree(stock.body()).path("movements");
        assertThat(movements.path(0).path("time").asText()).isEqualTo("2026-11-14");
    }

    @Test
    void aDateOnlyServiceDateWithAnEasternOffsetKeepsItsDayThroughTheJournal() throws Exception {
        SupplyUsage usage = journaled(withFt1(Samples.read(Samples.MERCY), 4, "20261114+1300"));
        Connector.Payload stock = payloads.render(CATALOG.destination("mercy-inventory"), 8, 3, usage, java.util.List.of());
        assertThat(JSON.readTree(stock.body()).path("movements").path(0).path("time").asText()).isEqualTo("2026-11-14");
    }

    static final Path JOURNAL_V1 = ROOT.resolve("hub/src/test/resources/journal-v1");
    static final String CPT = "http://www.ama-assn.org/go/cpt";

    /** The destination, rendering JSON instead of ER7. */
    static DestinationDefinition asJson(DestinationDefinition d) {
        return new DestinationDefinition(d.name(), d.file(), d.connector(), d.output(), d.directory(), d.url(),
                d.timeout(), DestinationDefinition.Format.JSON, d.maxAttempts(), d.maxAge(), d.initialBackoff(),
                d.maxBackoff(), d.pollInterval(), d.lease(), d.batchSize(), d.oauth2Registration(), d.retryRejected(),
                d.receiver());
    }

    /** MSH-7 and EVN-2 are the time of rendering. */
    static String withoutRenderTime(String er7) {
        String[] segments = er7.split("\r", -1);
        for (int i = 0; i < segments.length; i++) {
            String[] f = segments[i].split("\\|", -1);
            if (f[0].equals("MSH")) {
                f[6] = "";
            } else if (f[0].equals("EVN")) {
                f[2] = "";
            }
            segments[i] = String.join("|", f);
        }
        return String.join("\r", segments);
    }

    static SupplyUsage withLines(SupplyUsage u, List<Line> lines) {
        return new SupplyUsage(u.interfaceId(), u.sender(), u.controlId(), u.messageType(), u.patient(),
                u.patientAuthority(), u.patientIdType(), u.account(), u.encounter(), lines, u.skippedLines());
    }

    /** The Mercy sample with each line edited. */
    static SupplyUsage mercy(UnaryOperator<Line.Builder> edit) throws Exception {
        SupplyUsage u = journaled(Samples.read(Samples.MERCY));
        return withLines(u, u.lines().stream().map(l -> edit.apply(l.toBuilder()).build()).toList());
    }

    /** A service the item master does not know, billed as sent (CPT, from a lookup of the coding system). */
    static Line.Builder xray(Line.Builder b) {
        return b.use(Use.SERVICE).master(null).item(Ref.of(null, "73560")).itemText("X-RAY EXAM OF KNEE 1/2")
                .itemSystemUri(CPT).quantity(BigDecimal.ONE).unitPrice(new BigDecimal("120.00"))
                .extendedPrice(new BigDecimal("120.00"));
    }

    String render(String destination, SupplyUsage usage) throws Exception {
        Connector.Payload p = payloads.render(CATALOG.destination(destination), 7, 3, usage, List.of());
        return p == null ? null : new String(p.body(), StandardCharsets.UTF_8);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mercy", "mercy-credit", "lakeside"})
    void aJournalRowOfTheFirstReleaseRendersExactlyAsBefore(String sample) throws Exception {
        // the row as the first release journaled it: one "implant" object (or null), no use, no stock
        SupplyUsage usage = JSON.readValue(Files.readString(JOURNAL_V1.resolve(sample + ".usage.json")), SupplyUsage.class);
        String iface = sample.startsWith("mercy") ? "mercy" : "lakeside";
        // captured from the renderers of the first release
        Path billing = JOURNAL_V1.resolve(sample + ".billing.hl7");
        String er7 = render(iface + "-billing", usage);
        if (Files.exists(billing)) {
            assertThat(withoutRenderTime(er7)).isEqualTo(withoutRenderTime(Files.readString(billing)));
            Connector.Payload json = payloads.render(asJson(CATALOG.destination(iface + "-billing")), 7, 3, usage, List.of());
            assertThat(new String(json.body(), StandardCharsets.UTF_8))
                    .isEqualTo(Files.readString(JOURNAL_V1.resolve(sample + ".billing.json")));
        } else {
            assertThat(er7).as("nothing chargeable, as before").isNull();
        }
        assertThat(render(iface + "-inventory", usage)).isEqualTo(Files.readString(JOURNAL_V1.resolve(sample + ".stock.json")));
    }

    @Test
    void aMessageOfServicesOnlyOwesInventoryNothingAndIsBilled() throws Exception {
        SupplyUsage services = mercy(PayloadsTest::xray);
        assertThat(payloads.render(CATALOG.destination("mercy-inventory"), 8, 3, services, List.of())).isNull();

        Terser t = new Terser(HL7.parse(render("mercy-billing", services)));
        assertThat(t.getSegment("/FINANCIAL(2)/FT1")).as("every service is a charge").isNotNull();
        assertThat(t.get("/FINANCIAL(0)/FT1-7-1")).isEqualTo("73560");
        assertThat(t.get("/FINANCIAL(0)/FT1-7-2")).isEqualTo("X-RAY EXAM OF KNEE 1/2");
        assertThat(t.get("/FINANCIAL(0)/FT1-7-3")).as("the CPT URI as HL7 names it").isEqualTo("C4");
        assertThat(t.get("/FINANCIAL(0)/FT1-7-4")).isNull();
        assertThat(t.get("/FINANCIAL(0)/FT1-10")).isEqualTo("1");
        assertThat(t.get("/FINANCIAL(0)/FT1-26")).isNull();

        JsonNode charge = JSON.readTree(payloads.render(asJson(CATALOG.destination("mercy-billing")), 7, 3, services,
                List.of()).body()).path("charges").path(0);
        assertThat(charge.path("chargeCode").asText()).isEqualTo("73560");
        assertThat(charge.path("codeSystem").asText()).isEqualTo(CPT);
        assertThat(charge.path("use").asText()).isEqualTo("service");
        assertThat(charge.path("hcpcs").isNull()).isTrue();
    }

    @Test
    void aServiceSentWithItsCodingSystemIsBilledWithIt() throws Exception {
        SupplyUsage usage = mercy(b -> xray(b).item(Ref.of("C4", "73560")).itemSystemUri(null));
        Terser t = new Terser(HL7.parse(render("mercy-billing", usage)));
        assertThat(t.get("/FINANCIAL(0)/FT1-7-3")).isEqualTo("C4");
        assertThat(Payloads.codingSystemName("urn:oid:2.16.840.1.113883.6.12")).as("no URI in CE-3").isNull();
    }

    @Test
    void aServiceTheItemMasterKnowsIsBilledByItsRow() throws Exception {
        SupplyUsage usage = mercy(b -> b.use(Use.SERVICE));
        Terser t = new Terser(HL7.parse(render("mercy-billing", usage)));
        assertThat(t.get("/FINANCIAL(0)/FT1-7-1")).isEqualTo("270004512");
        assertThat(t.get("/FINANCIAL(0)/FT1-7-3")).isEqualTo("CDM");
        assertThat(t.get("/FINANCIAL(1)/FT1-7-4")).isEqualTo("C1776");
        assertThat(t.get("/FINANCIAL(1)/FT1-26")).isEqualTo("0278");
        assertThat(render("mercy-inventory", usage)).isNull();
    }

    @Test
    void aMixedMessageMovesStockForItsSuppliesOnly() throws Exception {
        SupplyUsage u = journaled(Samples.read(Samples.MERCY));
        List<Line> lines = new ArrayList<>(u.lines());
        lines.add(1, xray(Line.builder().index(4).transactionId("TX-88120-4").serviceDate(u.lines().get(0).serviceDate(),
                ChronoUnit.SECONDS).currency("USD")).build());
        // an item the item master marks stock=false is billed, but kept in no stock
        SupplyUsage.Item sponge = u.lines().get(1).master();
        lines.set(2, lines.get(2).toBuilder().master(new SupplyUsage.Item(sponge.itemId(), sponge.description(),
                sponge.manufacturer(), sponge.catalogNumber(), sponge.gtin(), sponge.unit(), true, sponge.chargeCode(),
                sponge.hcpcs(), sponge.revenueCode(), sponge.unitPrice(), sponge.sourceCode(), false)).build());
        SupplyUsage mixed = withLines(u, lines);

        JsonNode movements = JSON.readTree(render("mercy-inventory", mixed)).path("movements");
        assertThat(movements).extracting(m -> m.path("transactionId").asText()).containsExactly("TX-88120-1", "TX-88120-3");
        Terser t = new Terser(HL7.parse(render("mercy-billing", mixed)));
        assertThat(List.of(t.get("/FINANCIAL(0)/FT1-2"), t.get("/FINANCIAL(1)/FT1-2"), t.get("/FINANCIAL(2)/FT1-2"),
                t.get("/FINANCIAL(3)/FT1-2"))).containsExactly("TX-88120-1", "TX-88120-4", "TX-88120-2", "TX-88120-3");
    }

    @Test
    void theFt1CarriesEnteredDateDiagnosesEntererNdcOrganisationsAndNotes() throws Exception {
        String org = "https://fhir.mercy.example.org/sid/organization";
        SupplyUsage usage = mercy(b -> b
                .enteredDate(OffsetDateTime.of(2026, 11, 14, 9, 35, 12, 0, ZoneOffset.ofHours(-6)), ChronoUnit.DAYS)
                .reasons(List.of(SupplyUsage.Coding.of("http://hl7.org/fhir/sid/icd-10-cm", "M17.11", "PRIMARY OA RIGHT KNEE"),
                        SupplyUsage.Coding.of("I10", "Z96.651", null)))
                .enterer(Ref.of("http://hl7.org/fhir/sid/us-npi", "1987654321"))
                .ndc(SupplyUsage.Coding.of(FhirMapper.NDC, "0409-4888-02", "LIDOCAINE HCL 1% 2ML"))
                .performingOrganization(Ref.of(org, "MERCY-OR"))
                .orderingOrganization(Ref.of(org, "MERCY-ORTHO"))
                .notes(List.of("Opened | not used", "Second note")));
        String er7 = render("mercy-billing", usage);
        Terser t = new Terser(HL7.parse(er7));
        assertThat(t.get("/FINANCIAL(0)/FT1-5")).as("a date stays a date").isEqualTo("20261114");
        assertThat(t.get("/FINANCIAL(0)/FT1-19(0)-1")).isEqualTo("M17.11");
        assertThat(t.get("/FINANCIAL(0)/FT1-19(0)-2")).isEqualTo("PRIMARY OA RIGHT KNEE");
        assertThat(t.get("/FINANCIAL(0)/FT1-19(0)-3")).isEqualTo("I10");
        assertThat(t.get("/FINANCIAL(0)/FT1-19(1)-1")).isEqualTo("Z96.651");
        assertThat(t.get("/FINANCIAL(0)/FT1-19(1)-3")).isEqualTo("I10");
        assertThat(t.get("/FINANCIAL(0)/FT1-24-1")).isEqualTo("1987654321");
        assertThat(t.get("/FINANCIAL(0)/FT1-29-1")).isEqualTo("0409-4888-02");
        assertThat(t.get("/FINANCIAL(0)/FT1-29-3")).isEqualTo("NDC");
        assertThat(t.get("/FINANCIAL(0)/FT1-32-1")).isEqualTo("MERCY-OR");
        assertThat(t.get("/FINANCIAL(0)/FT1-33-1")).isEqualTo("MERCY-ORTHO");
        assertThat(t.get("/FINANCIAL(0)/NTE-3(0)")).isEqualTo("Opened | not used");
        assertThat(t.get("/FINANCIAL(0)/NTE-3(1)")).isEqualTo("Second note");
        assertThat(er7).contains("\rNTE|1||Opened \\F\\ not used~Second note\rFT1|2|");

        JsonNode charge = JSON.readTree(payloads.render(asJson(CATALOG.destination("mercy-billing")), 7, 3, usage,
                List.of()).body()).path("charges").path(0);
        assertThat(charge.path("enteredDate").asText()).isEqualTo("2026-11-14");
        assertThat(charge.path("diagnoses").path(0).path("code").asText()).isEqualTo("M17.11");
        assertThat(charge.path("diagnoses").path(1).path("system").asText()).isEqualTo("I10");
        assertThat(charge.path("enteredBy").asText()).isEqualTo("1987654321");
        assertThat(charge.path("ndc").asText()).isEqualTo("0409-4888-02");
        assertThat(charge.path("performingOrganization").asText()).isEqualTo("MERCY-OR");
        assertThat(charge.path("orderingOrganization").asText()).isEqualTo("MERCY-ORTHO");
        assertThat(charge.path("notes")).extracting(JsonNode::asText).containsExactly("Opened | not used", "Second note");
        assertThat(charge.has("use")).isFalse();
    }

    @Test
    void everyDeviceOfALineIsInItsStockMovement() throws Exception {
        Implant second = new Implant(null, null, null, "LOT7781B", "SN00042520", LocalDate.of(2030, 2, 1), null,
                "ZIMMER BIOMET", "5020-10-05", null, "KNEE, RIGHT");
        SupplyUsage u = journaled(Samples.read(Samples.MERCY));
        List<Line> lines = new ArrayList<>(u.lines());
        Line knee = lines.get(2);
        lines.set(2, knee.toBuilder().quantity(new BigDecimal("2")).implants(List.of(knee.implant(), second)).build());

        JsonNode movement = JSON.readTree(render("mercy-inventory", withLines(u, lines))).path("movements").path(2);
        assertThat(movement.path("lot").asText()).as("the first device where it always was").isEqualTo("LOT7781A");
        assertThat(movement.path("devices")).extracting(d -> d.path("serial").asText()).containsExactly("SN00042519", "SN00042520");
        assertThat(movement.path("devices").path(1).path("expiry").asText()).isEqualTo("2030-02-01");
        assertThat(JSON.readTree(render("mercy-inventory", u)).path("movements").path(2).has("devices"))
                .as("one device: no list").isFalse();
    }

    @Test
    void eachDeviceOfALineIsAConditionalCreateOfItsOwn() throws Exception {
        SupplyUsage u = journaled(Samples.read(Samples.MERCY));
        List<Line> lines = new ArrayList<>(u.lines());
        Line knee = lines.get(2);
        lines.set(2, knee.toBuilder().quantity(new BigDecimal("2")).implants(List.of(knee.implant(), knee.implant())).build());
        List<String> resources = FhirMapper.toFhir(withLines(u, lines), MERCY.profile().systems()).stream()
                .map(ca.uhn.fhir.context.FhirContext.forR4Cached().newJsonParser()::encodeResourceToString).toList();

        JsonNode entries = JSON.readTree(payloads.transaction(resources)).path("entry");
        List<String> devices = new ArrayList<>();
        entries.forEach(e -> {
            if (e.path("request").path("url").asText().equals("Device")) {
                devices.add(e.path("request").path("ifNoneExist").asText());
            }
        });
        assertThat(devices).containsExactly("identifier=https://fhir.mercy.example.org/sid/or-transaction|TX-88120-3",
                "identifier=https://fhir.mercy.example.org/sid/or-transaction|TX-88120-3%232");
    }
}
