package org.supplyhub.mapping;

import org.hl7.fhir.r4.model.ChargeItem;
import org.hl7.fhir.r4.model.Device;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.SupplyDelivery;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.supplyhub.mapping.MappingSupport.LAKESIDE;
import static org.supplyhub.mapping.MappingSupport.MERCY;
import static org.supplyhub.mapping.MappingSupport.fhir;
import static org.supplyhub.mapping.MappingSupport.map;
import static org.supplyhub.mapping.MappingSupport.mercy;
import static org.supplyhub.mapping.MappingSupport.withField;

/** What the mapper takes and refuses (issue 9 items 3, 5, 14), without Spring. */
class UsageMapperTest {

    @TempDir
    Path dir;

    static <T extends Resource> List<T> ofType(List<Resource> resources, Class<T> type) {
        return resources.stream().filter(type::isInstance).map(type::cast).toList();
    }

    static MappingException refused(UsageMapper mapper, String er7) {
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> fhir(mapper, er7));
        assertThat(thrown).isInstanceOf(MappingException.class);
        return (MappingException) thrown;
    }

    @Test
    void theSamplesMapToValidR4() {
        for (String er7 : List.of(mercy(), MappingSupport.lakeside(), Samples.read(Samples.MERCY_CREDIT))) {
            fhir(er7.contains("SURGINET") ? LAKESIDE : MERCY, er7).forEach(R4Validator::assertValid);
        }
    }

    @Test
    void aHugeQuantityIsRefusedByItsLengthBeforeAnyParsing() {
        String thousand = "1".repeat(1001);
        MappingException e = refused(MERCY, withField(mercy(), "FT1", 0, 10, thousand));
        assertThat(e.path()).isEqualTo("FT1-10");
        assertThat(e.lineIndex()).isEqualTo(1);
        assertThat(e.getMessage()).startsWith("FT1-10 (line 1): quantity is 1001 characters long");

        String million = withField(mercy(), "FT1", 1, 10, "9".repeat(1_000_000));
        ca.uhn.hl7v2.model.Message parsed = parse(million);
        assertTimeoutPreemptively(Duration.ofMillis(500), () -> assertThatThrownBy(
                () -> MERCY.map(parsed, "S", "C", "DFT^P03"))
                .isInstanceOf(MappingException.class).hasMessageStartingWith("FT1-10 (line 2)"));
    }

    static ca.uhn.hl7v2.model.Message parse(String er7) {
        try {
            return MappingSupport.HL7.parse(er7);
        } catch (ca.uhn.hl7v2.HL7Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"1E+999999999", "1e3", "1234567890", "2.00001", "0", "0.0000", "-", ".", "2,5", "0x10", "NaN"})
    void quantitiesOutOfRangeOrNotNumbersAreRefused(String quantity) {
        MappingException e = refused(MERCY, withField(mercy(), "FT1", 0, 10, quantity));
        assertThat(e.path()).isEqualTo("FT1-10");
        assertThat(e.lineIndex()).isEqualTo(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"123456789", "+2", "2.5", "0002", ".5", "-1", "1.0000"})
    void quantitiesWithinRangeAreTaken(String quantity) {
        fhir(MERCY, withField(mercy(), "FT1", 0, 10, quantity)).forEach(R4Validator::assertValid);
    }

    @Test
    void pricesAreBounded() {
        assertThat(refused(MERCY, withField(mercy(), "FT1", 0, 11, "1234567890123^USD")).path()).isEqualTo("FT1-11-1");
        assertThat(refused(MERCY, withField(mercy(), "FT1", 0, 12, "1E400^USD")).path()).isEqualTo("FT1-12-1");
        fhir(MERCY, withField(mercy(), "FT1", 0, 11, "123456789012.1234^USD")).forEach(R4Validator::assertValid);
    }

    @ParameterizedTest
    @ValueSource(strings = {"usd", "XYZ", "US", "DOLLAR", "US$", "U D"})
    void currenciesMustBeIso4217(String currency) {
        MappingException e = refused(MERCY, withField(mercy(), "FT1", 1, 12, "7.50^" + currency));
        assertThat(e.path()).isEqualTo("FT1-12-2");
        assertThat(e.lineIndex()).isEqualTo(2);
    }

    @Test
    void identifiersAndCodesHaveMaximumLengths() {
        assertThat(refused(MERCY, withField(mercy(), "FT1", 0, 2, "T".repeat(65))).getMessage())
                .isEqualTo("FT1-2 (line 1): transaction id is 65 characters long, at most 64 are taken");
        assertThat(refused(MERCY, withField(mercy(), "FT1", 0, 7, "1".repeat(65) + "^X^MERCYCDM")).path()).isEqualTo("FT1-7-1");
        assertThat(refused(MERCY, withField(mercy(), "FT1", 0, 7, "2700  04512^X^MERCYCDM")).getMessage())
                .contains("double space");
        assertThat(refused(MERCY, withField(mercy(), "PID", 0, 3, "M".repeat(65) + "^^^MERCY^MR")).path()).isEqualTo("PID-3-1");
        assertThat(refused(MERCY, withField(mercy(), "PID", 0, 18, "A".repeat(65))).path()).isEqualTo("PID-18-1");
        assertThat(refused(MERCY, withField(mercy(), "ZIM", 0, 3, "L".repeat(65))).path()).isEqualTo("ZIM-3");
        assertThat(refused(MERCY, withField(mercy(), "ZIM", 0, 4, "S".repeat(65))).path()).isEqualTo("ZIM-4");
        assertThat(refused(MERCY, withField(mercy(), "FT1", 0, 31, "O".repeat(65))).path()).isEqualTo("FT1-31");
    }

    @ParameterizedTest
    @ValueSource(strings = {"20261114091000+2500", "20261114091000+12", "20261114091000-99", "20261114091000+", "20261114091000+1",
            "20261114091000+0",  "20261114091000+1460", "202611140910+0", "20261114091000.12345", "20261114091000.",
            "0000111409", "20261314", "2026111409105", "20261114091000+0100+0100"})
    void badTimestampsAreMappingErrors(String value) {
        MappingException e = refused(MERCY, withField(mercy(), "FT1", 0, 4, value));
        assertThat(e.path()).isEqualTo("FT1-4");
        assertThat(e.lineIndex()).isEqualTo(1);
    }

    @Test
    void aDateOnlyServiceDateKeepsItsPrecision() {
        List<Resource> out = fhir(MERCY, withField(mercy(), "FT1", 0, 4, "20261114"));
        out.forEach(R4Validator::assertValid);
        assertThat(ofType(out, SupplyDelivery.class).get(0).getOccurrenceDateTimeType().getValueAsString())
                .isEqualTo("2026-11-14");
        assertThat(ofType(out, ChargeItem.class).get(0).getOccurrenceDateTimeType().getValueAsString())
                .isEqualTo("2026-11-14");
        // a time to the minute, with an offset, keeps its offset; fractions keep the millisecond
        out = fhir(MERCY, withField(mercy(), "FT1", 0, 4, "202611140910+0100"));
        assertThat(ofType(out, SupplyDelivery.class).get(0).getOccurrenceDateTimeType().getValueAsString())
                .isEqualTo("2026-11-14T09:10:00+01:00");
        out = fhir(MERCY, withField(mercy(), "FT1", 0, 4, "20261114091000.25"));
        out.forEach(R4Validator::assertValid);
        assertThat(ofType(out, SupplyDelivery.class).get(0).getOccurrenceDateTimeType().getValueAsString())
                .isEqualTo("2026-11-14T09:10:00.250-06:00");
    }

    @Test
    void anImplantWhoseItemMasterRowHasNoManufacturerNamesTheRowAndColumn() throws IOException {
        Files.copy(MappingSupport.MAPPINGS.resolve("mercy-or.yaml"), dir.resolve("mercy-or.yaml"));
        String csv = Files.readString(MappingSupport.MAPPINGS.resolve("item-master.csv"))
                .replace("INV-300412,KNEE FEMORAL COMPONENT CEMENTED SZ5,ZIMMER BIOMET,5020-10-05,",
                        "INV-300412,KNEE FEMORAL COMPONENT CEMENTED SZ5,,,");
        Files.writeString(dir.resolve("item-master.csv"), csv);
        UsageMapper mapper = new ProfileLoader(dir).load("mercy-or", "mercy-or.yaml");
        String noManufacturer = withField(withField(mercy(), "ZIM", 0, 6, ""), "ZIM", 0, 7, "");

        MappingException e = refused(mapper, noManufacturer);
        assertThat(e.path()).isEqualTo("ZIM-6");
        assertThat(e.lineIndex()).isEqualTo(3);
        assertThat(e.getMessage()).contains("mappings/item-master.csv", "item_id INV-300412", "column manufacturer");

        // the catalog number is optional: without it the Device simply has no catalog identifier
        List<Resource> out = fhir(mapper, withField(mercy(), "ZIM", 0, 7, ""));
        out.forEach(R4Validator::assertValid);
        assertThat(ofType(out, Device.class).get(0).getIdentifier()).hasSize(1);
    }

    @Test
    void aBadHibccJulianDateIsAMappingError() {
        String udi = hibcc("+H123ABC1231/26400LOT5");
        MappingException e = refused(MERCY, withField(withField(withField(mercy(), "ZIM", 0, 2, udi), "ZIM", 0, 3, ""),
                "ZIM", 0, 5, ""));
        assertThat(e.path()).isEqualTo("ZIM-2");
        assertThat(e.getMessage()).contains("Julian");
    }

    /** Appends the HIBCC modulo-43 check character. */
    static String hibcc(String data) {
        String chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";
        int sum = 0;
        for (char c : data.toCharArray()) {
            sum += chars.indexOf(c);
        }
        return data + chars.charAt(sum % 43);
    }

    @Test
    void metaSourceIsAValidUriWhateverTheControlId() {
        String er7 = mercy();
        SupplyUsage usage = MERCY.map(parse(er7), "ORMGR^MERCY_OR", "OR 1#é<x>%", "DFT^P03");
        List<Resource> out = FhirMapper.toFhir(usage, MERCY.profile().systems());
        out.forEach(R4Validator::assertValid);
        assertThat(out.get(0).getMeta().getSource()).isEqualTo("urn:supplyhub:mercy-or#OR%201%23%C3%A9%3Cx%3E%25");
    }

    @Test
    void theCatalogNumberIsADeviceIdentifierAndTheModelStaysTheModel() {
        Device knee = ofType(fhir(MERCY, mercy()), Device.class).get(0);
        assertThat(knee.getModelNumber()).isNull();
        assertThat(knee.getIdentifier()).hasSize(2);
        assertThat(knee.getIdentifier().get(0).getValue()).isEqualTo("TX-88120-3"); // the transaction stays first
        assertThat(knee.getIdentifier().get(1).getValue()).isEqualTo("5020-10-05");
        assertThat(knee.getIdentifier().get(1).getType().getCodingFirstRep().getCode()).isEqualTo("catalog-number");
        assertThat(knee.getIdentifier().get(1).getAssigner().getDisplay()).isEqualTo("ZIMMER BIOMET");

        List<Resource> out = fhir(LAKESIDE, MappingSupport.lakeside());
        out.forEach(R4Validator::assertValid);
        Device pacemaker = ofType(out, Device.class).get(0);
        assertThat(pacemaker.getModelNumber()).isEqualTo("ADVISA MRI A3DR01");
        assertThat(pacemaker.getIdentifier().get(1).getValue()).isEqualTo("A3DR01"); // from the item master
    }

    @Test
    void aCreditOfAnImplantReferencesTheOriginalDeviceAndCreatesNone() {
        String credit = Samples.read(Samples.MERCY_CREDIT);
        credit = withField(credit, "FT1", 0, 7, "278009041^KNEE FEMORAL COMPONENT CEMENTED SZ5^MERCYCDM");
        credit = withField(credit, "FT1", 0, 31, "TX-88120-3");
        credit = credit.stripTrailing() + "\rZIM|1|(01)00889024123458(17)300101(10)LOT7781A(21)SN00042519|LOT7781A"
                + "|SN00042519|20300101|ZIMMER BIOMET|5020-10-05|KNEE, RIGHT\r";

        List<Resource> out = fhir(MERCY, credit);
        out.forEach(R4Validator::assertValid);
        assertThat(ofType(out, Device.class)).isEmpty();
        SupplyDelivery returned = ofType(out, SupplyDelivery.class).get(0);
        assertThat(returned.getSuppliedItem().hasItemReference()).isTrue();
        assertThat(returned.getSuppliedItem().getItemReference().getType()).isEqualTo("Device");
        assertThat(returned.getSuppliedItem().getItemReference().getIdentifier().getValue()).isEqualTo("TX-88120-3");
        assertThat(returned.getSuppliedItem().getItemReference().getIdentifier().getSystem())
                .isEqualTo("https://fhir.mercy.example.org/sid/or-transaction");
        ChargeItem charge = ofType(out, ChargeItem.class).get(0);
        assertThat(charge.getProductReference().getIdentifier().getValue()).isEqualTo("TX-88120-3");

        // the original charge's Device is the one so identified
        Device original = ofType(fhir(MERCY, mercy()), Device.class).get(0);
        assertThat(original.getIdentifierFirstRep().getSystem()).isEqualTo(
                returned.getSuppliedItem().getItemReference().getIdentifier().getSystem());
        assertThat(original.getIdentifierFirstRep().getValue()).isEqualTo("TX-88120-3");
    }

    @Test
    void thePatientIdentifiersAuthorityAndTypeAreKept() {
        SupplyUsage usage = map(MERCY, withField(mercy(), "PID", 0, 3, "MRN448812^^^MERCY&2.16.840.1.113883.3.72&ISO^MR"));
        assertThat(usage.patientAuthority()).isEqualTo(new SupplyUsage.Assigner("MERCY", "2.16.840.1.113883.3.72", "ISO"));
        assertThat(usage.patientIdType()).isEqualTo("MR");
    }
}
