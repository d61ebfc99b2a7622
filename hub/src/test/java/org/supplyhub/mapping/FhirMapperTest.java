package org.supplyhub.mapping;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.hl7.fhir.r4.model.ChargeItem;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Device;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.SupplyDelivery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;
import org.supplyhub.mapping.SupplyUsage.Implant;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.mapping.SupplyUsage.Ref;
import org.supplyhub.mapping.SupplyUsage.Use;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.TestInterfaces;

import java.math.BigDecimal;
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
import static org.supplyhub.mapping.MappingSupport.FHIR_JSON;
import static org.supplyhub.mapping.MappingSupport.LAKESIDE;
import static org.supplyhub.mapping.MappingSupport.MERCY;
import static org.supplyhub.mapping.MappingSupport.map;
import static org.supplyhub.mapping.MappingSupport.mercy;

/** The FHIR resources of the canonical fields added for issue 11, and journal rows of the first release. */
class FhirMapperTest {

    /** Configured like the application's (application.yml: ISO dates, the sender's offset kept). */
    static final ObjectMapper JSON = Jackson2ObjectMapperBuilder.json()
            .featuresToDisable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS,
                    DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .build();
    static final Path JOURNAL_V1 = TestInterfaces.projectRoot().resolve("hub/src/test/resources/journal-v1");
    static final String TX_SYSTEM = "https://fhir.mercy.example.org/sid/or-transaction";

    static <T extends Resource> List<T> ofType(List<Resource> resources, Class<T> type) {
        return resources.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** The Mercy sample with line {@code index} (1-based) edited and the other lines left out. */
    static SupplyUsage mercyLine(int index, UnaryOperator<Line.Builder> edit) {
        SupplyUsage u = map(MERCY, mercy());
        Line line = edit.apply(u.lines().get(index - 1).toBuilder()).build();
        return new SupplyUsage(u.interfaceId(), u.sender(), u.controlId(), u.messageType(), u.patient(),
                u.patientAuthority(), u.patientIdType(), u.account(), u.encounter(), List.of(line), u.skippedLines());
    }

    static List<Resource> fhir(SupplyUsage usage) {
        List<Resource> out = FhirMapper.toFhir(usage, MERCY.profile().systems());
        out.forEach(R4Validator::assertValid);
        return out;
    }

    static ChargeItem charge(List<Resource> out) {
        return ofType(out, ChargeItem.class).get(0);
    }

    static Implant implant(String lot, String serial) {
        return new Implant(null, null, null, lot, serial, LocalDate.of(2030, 1, 1), null, "ZIMMER BIOMET",
                "5020-10-05", null, "KNEE, RIGHT");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mercy", "mercy-credit", "lakeside"})
    void aJournalRowOfTheFirstReleaseRendersExactlyAsBefore(String sample) throws Exception {
        // the row as the first release journaled it: one "implant" object (or null), no use, no stock
        String row = Files.readString(JOURNAL_V1.resolve(sample + ".usage.json"));
        assertThat(row).contains("\"implant\"").doesNotContain("\"implants\"", "\"use\"", "\"stock\"");
        SupplyUsage usage = JSON.readValue(row, SupplyUsage.class);
        UsageMapper mapper = sample.startsWith("mercy") ? MERCY : LAKESIDE;

        List<Resource> out = FhirMapper.toFhir(usage, mapper.profile().systems());
        out.forEach(R4Validator::assertValid);
        List<String> rendered = out.stream().map(FHIR_JSON::encodeResourceToString).toList();
        // captured from the renderer of the first release
        assertThat(rendered).containsExactlyElementsOf(Files.readAllLines(JOURNAL_V1.resolve(sample + ".fhir.ndjson")));
    }

    @Test
    void aDateOnlyEnteredDateStaysADateAndATimeKeepsItsOffset() {
        OffsetDateTime entered = OffsetDateTime.of(2026, 11, 14, 9, 35, 12, 0, ZoneOffset.ofHours(-6));
        ChargeItem dateOnly = charge(fhir(mercyLine(1, b -> b.enteredDate(entered, ChronoUnit.DAYS))));
        assertThat(dateOnly.getEnteredDateElement().getValueAsString()).isEqualTo("2026-11-14");

        ChargeItem timed = charge(fhir(mercyLine(1, b -> b.enteredDate(entered, ChronoUnit.SECONDS))));
        assertThat(timed.getEnteredDateElement().getValueAsString()).isEqualTo("2026-11-14T09:35:12-06:00");
    }

    @Test
    void diagnosesEntererOrganisationsAndNotesGoOnTheChargeItem() {
        String icd10 = "http://hl7.org/fhir/sid/icd-10-cm";
        String npi = "http://hl7.org/fhir/sid/us-npi";
        String org = "https://fhir.mercy.example.org/sid/organization";
        ChargeItem ci = charge(fhir(mercyLine(1, b -> b
                .reasons(List.of(SupplyUsage.Coding.of(icd10, "M17.11", "Unilateral primary osteoarthritis, right knee"),
                        SupplyUsage.Coding.of(icd10, "Z96.651", null)))
                .enterer(Ref.of(npi, "1987654321"))
                .performingOrganization(Ref.of(org, "MERCY-OR"))
                .orderingOrganization(Ref.of(org, "MERCY-ORTHO"))
                .notes(List.of("Opened in error, not used", "Second note")))));

        assertThat(ci.getReason()).hasSize(2);
        assertThat(ci.getReason().get(0).getCodingFirstRep().getSystem()).isEqualTo(icd10);
        assertThat(ci.getReason().get(0).getCodingFirstRep().getCode()).isEqualTo("M17.11");
        assertThat(ci.getReason().get(0).getCodingFirstRep().getDisplay()).isEqualTo("Unilateral primary osteoarthritis, right knee");
        assertThat(ci.getReason().get(1).getCodingFirstRep().getCode()).isEqualTo("Z96.651");
        assertThat(ci.getEnterer().getType()).isEqualTo("Practitioner");
        assertThat(ci.getEnterer().getIdentifier().getSystem()).isEqualTo(npi);
        assertThat(ci.getEnterer().getIdentifier().getValue()).isEqualTo("1987654321");
        assertThat(ci.getPerformingOrganization().getType()).isEqualTo("Organization");
        assertThat(ci.getPerformingOrganization().getIdentifier().getValue()).isEqualTo("MERCY-OR");
        assertThat(ci.getRequestingOrganization().getIdentifier().getValue()).isEqualTo("MERCY-ORTHO");
        assertThat(ci.getNote()).extracting(n -> n.getText()).containsExactly("Opened in error, not used", "Second note");
    }

    @Test
    void absentNewFieldsAddNothing() {
        ChargeItem ci = charge(fhir(mercyLine(1, b -> b)));
        assertThat(ci.hasEnteredDate()).isFalse();
        assertThat(ci.hasReason()).isFalse();
        assertThat(ci.hasEnterer()).isFalse();
        assertThat(ci.hasPerformingOrganization()).isFalse();
        assertThat(ci.hasRequestingOrganization()).isFalse();
        assertThat(ci.hasNote()).isFalse();
        assertThat(ci.getProductCodeableConcept().getCoding()).extracting(Coding::getSystem).doesNotContain(FhirMapper.NDC);
    }

    @Test
    void theNdcIsAnExtraCodingOfTheProduct() {
        SupplyUsage.Coding ndc = SupplyUsage.Coding.of(FhirMapper.NDC, "0409-4888-02", "LIDOCAINE HCL 1% 2ML");
        List<Resource> out = fhir(mercyLine(1, b -> b.ndc(ndc)));
        ChargeItem ci = charge(out);
        assertThat(ci.getProductCodeableConcept().getCoding()).extracting(Coding::getSystem)
                .containsExactly(MERCY.profile().systems().item(), FhirMapper.ITEM_MASTER, FhirMapper.NDC);
        assertThat(ci.getProductCodeableConcept().getCoding().get(2).getCode()).isEqualTo("0409-4888-02");
        SupplyDelivery sd = ofType(out, SupplyDelivery.class).get(0);
        assertThat(sd.getSuppliedItem().getItemCodeableConcept().getCoding()).extracting(Coding::getCode).contains("0409-4888-02");

        // an implant line's product is its Device: the NDC says what that device is
        Device knee = ofType(fhir(mercyLine(3, b -> b.ndc(ndc))), Device.class).get(0);
        assertThat(knee.getType().getCoding()).extracting(Coding::getSystem).containsExactly(FhirMapper.ITEM_MASTER, FhirMapper.NDC);
    }

    @Test
    void aServiceLineTheItemMasterDoesNotKnowIsAChargeItemCodedAsSent() {
        String cpt = "http://www.ama-assn.org/go/cpt";
        SupplyUsage usage = mercyLine(1, b -> b.use(Use.SERVICE).master(null).item(Ref.of(null, "73560"))
                .itemText("X-RAY EXAM OF KNEE 1/2").itemSystemUri(cpt).quantity(BigDecimal.ONE)
                .unitPrice(new BigDecimal("120.00")).extendedPrice(new BigDecimal("120.00")));
        List<Resource> out = fhir(usage);

        assertThat(out).hasSize(1); // no SupplyDelivery, no Device
        ChargeItem ci = charge(out);
        assertThat(ci.getIdElement().getIdPart()).isEqualTo(FhirMapper.resourceId("mercy-or", "TX-88120-1", "ChargeItem"));
        assertThat(ci.getStatus()).isEqualTo(ChargeItem.ChargeItemStatus.BILLABLE);
        assertThat(ci.getCode().getCoding()).hasSize(1);
        assertThat(ci.getCode().getCodingFirstRep().getSystem()).isEqualTo(cpt);
        assertThat(ci.getCode().getCodingFirstRep().getCode()).isEqualTo("73560");
        assertThat(ci.getCode().getText()).isEqualTo("X-RAY EXAM OF KNEE 1/2");
        assertThat(ci.hasService()).isFalse();
        assertThat(ci.hasProduct()).isFalse();
        assertThat(ci.getQuantity().getValue()).isEqualByComparingTo("1");
        assertThat(ci.getQuantity().hasUnit()).isFalse();
        assertThat(ci.getPriceOverride().getValue()).isEqualByComparingTo("120.00");

        // without a system of its own, the item code keeps the profile's item system
        ChargeItem noSystem = charge(fhir(mercyLine(1, b -> b.use(Use.SERVICE).master(null).itemSystemUri(null))));
        assertThat(noSystem.getCode().getCodingFirstRep().getSystem()).isEqualTo(MERCY.profile().systems().item());
    }

    @Test
    void aServiceLineTheItemMasterKnowsIsCodedAndBilledByItsRow() {
        // line 2 (lap sponges) is not chargeable in the item master; line 3 has a charge code and HCPCS
        ChargeItem notBillable = charge(fhir(mercyLine(2, b -> b.use(Use.SERVICE))));
        assertThat(notBillable.getStatus()).isEqualTo(ChargeItem.ChargeItemStatus.NOTBILLABLE);

        List<Resource> out = fhir(mercyLine(3, b -> b.use(Use.SERVICE)));
        assertThat(out).hasSize(1); // its implant is no device of a service
        ChargeItem ci = charge(out);
        assertThat(ci.getStatus()).isEqualTo(ChargeItem.ChargeItemStatus.BILLABLE);
        assertThat(ci.getCode().getCoding()).extracting(Coding::getCode).containsExactly("278009041", "C1776");
        assertThat(ci.getCode().getText()).isEqualTo("KNEE FEMORAL COMPONENT CEMENTED SZ5");
        assertThat(ci.getQuantity().getUnit()).isEqualTo("EA");

        // an item the item master keeps in no stock is a service, whatever the profile said
        SupplyUsage.Item knee = map(MERCY, mercy()).lines().get(2).master();
        SupplyUsage.Item notStocked = new SupplyUsage.Item(knee.itemId(), knee.description(), knee.manufacturer(),
                knee.catalogNumber(), knee.gtin(), knee.unit(), true, knee.chargeCode(), knee.hcpcs(), knee.revenueCode(),
                knee.unitPrice(), knee.sourceCode(), false);
        assertThat(fhir(mercyLine(3, b -> b.master(notStocked)))).hasSize(1).allMatch(ChargeItem.class::isInstance);

        // a drug given as a service: its NDC is the product
        ChargeItem drug = charge(fhir(mercyLine(1, b -> b.use(Use.SERVICE)
                .ndc(SupplyUsage.Coding.of(FhirMapper.NDC, "0409-4888-02", null)))));
        assertThat(drug.getProductCodeableConcept().getCoding()).extracting(Coding::getSystem).containsExactly(FhirMapper.NDC);
    }

    @Test
    void severalDevicesOnALineAreOneDeviceEachAndTheFirstKeepsItsId() {
        List<Resource> one = fhir(mercyLine(3, b -> b));
        List<Resource> out = fhir(mercyLine(3, b -> b.quantity(new BigDecimal("2"))
                .implants(List.of(implant("LOT7781A", "SN00042519"), implant("LOT7781A", "SN00042520")))));

        List<Device> devices = ofType(out, Device.class);
        assertThat(devices).hasSize(2);
        assertThat(devices.get(0).getIdElement().getIdPart())
                .isEqualTo(FhirMapper.resourceId("mercy-or", "TX-88120-3", "Device"))
                .isEqualTo(ofType(one, Device.class).get(0).getIdElement().getIdPart());
        assertThat(devices.get(1).getIdElement().getIdPart())
                .isEqualTo(FhirMapper.resourceId("mercy-or", "TX-88120-3", "Device#2"));
        assertThat(devices).extracting(d -> d.getIdentifierFirstRep().getValue()).containsExactly("TX-88120-3", "TX-88120-3#2");
        assertThat(devices).extracting(d -> d.getIdentifierFirstRep().getSystem()).containsOnly(TX_SYSTEM);
        assertThat(devices).extracting(Device::getSerialNumber).containsExactly("SN00042519", "SN00042520");
        assertThat(devices).allSatisfy(d -> assertThat(d.getPatient().getIdentifier().getValue()).isEqualTo("MRN448812"));

        // one delivery and one charge for the line, of the item: no single device stands for both
        SupplyDelivery sd = ofType(out, SupplyDelivery.class).get(0);
        assertThat(sd.getSuppliedItem().hasItemCodeableConcept()).isTrue();
        assertThat(sd.getSuppliedItem().getItemCodeableConcept().getCoding()).extracting(Coding::getCode)
                .containsExactly("278009041", "INV-300412");
        assertThat(sd.getSuppliedItem().getQuantity().getValue()).isEqualByComparingTo("2");
        assertThat(charge(out).getProductCodeableConcept().getCoding()).extracting(Coding::getCode)
                .containsExactly("278009041", "INV-300412");

        // and a line with one device still references it, as it always did
        assertThat(ofType(one, SupplyDelivery.class).get(0).getSuppliedItem().getItemReference().getType()).isEqualTo("Device");
    }

    @Test
    void aCreditOfSeveralDevicesCreatesNoneAndReturnsTheItem() {
        List<Resource> out = fhir(mercyLine(3, b -> b.kind(SupplyUsage.Kind.CREDIT).quantity(new BigDecimal("-2"))
                .extendedPrice(new BigDecimal("-9700.00")).originalTransactionId("TX-88120-3")
                .implants(List.of(implant("LOT7781A", "SN00042519"), implant("LOT7781A", "SN00042520")))));
        assertThat(ofType(out, Device.class)).isEmpty();
        assertThat(ofType(out, SupplyDelivery.class).get(0).getSuppliedItem().hasItemCodeableConcept()).isTrue();
        assertThat(charge(out).getPartOfFirstRep().getIdentifier().getValue()).isEqualTo("TX-88120-3");
    }

    @Test
    void aMixedMessageHasDeliveriesOnlyForItsSupplies() {
        SupplyUsage u = map(MERCY, mercy());
        List<Line> lines = new ArrayList<>(u.lines());
        lines.set(1, lines.get(1).toBuilder().use(Use.SERVICE).master(null).item(Ref.of(null, "99213"))
                .itemSystemUri("http://www.ama-assn.org/go/cpt").build());
        SupplyUsage mixed = new SupplyUsage(u.interfaceId(), u.sender(), u.controlId(), u.messageType(), u.patient(),
                u.patientAuthority(), u.patientIdType(), u.account(), u.encounter(), lines, u.skippedLines());
        List<Resource> out = fhir(mixed);
        assertThat(ofType(out, ChargeItem.class)).hasSize(3);
        assertThat(ofType(out, SupplyDelivery.class)).extracting(sd -> sd.getIdentifierFirstRep().getValue())
                .containsExactly("TX-88120-1", "TX-88120-3");
        assertThat(ofType(out, Device.class)).hasSize(1);
    }
}
