package org.supplyhub.mapping;

import ca.uhn.hl7v2.ErrorCode;
import org.junit.jupiter.api.Test;
import org.supplyhub.mapping.SupplyUsage.Implant;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.mapping.SupplyUsage.Use;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.time.temporal.ChronoUnit;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.supplyhub.mapping.MappingSupport.MAPPINGS;
import static org.supplyhub.mapping.MappingSupport.map;
import static org.supplyhub.mapping.MappingSupport.withField;

/**
 * The profile language on the shipped sample feeds (issue 11 item 1), without Spring: real
 * messages parsed by HAPI, the shipped profiles, lookup tables and item master.
 */
class ProfileLanguageTest {

    static final UsageMapper RIVERSIDE = new ProfileLoader(MAPPINGS).load("riverside-ir", "riverside-ir.yaml");
    static final UsageMapper VALLEY = new ProfileLoader(MAPPINGS).load("valley-cath", "valley-cath.yaml");

    static String sample(String iface, String name) {
        try {
            return Files.readString(MAPPINGS.resolve("tests/" + iface + "/" + name + ".hl7"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String riverside() {
        return sample("riverside-ir", "stent-services-equipment");
    }

    static MappingException refused(UsageMapper mapper, String er7) {
        return (MappingException) org.assertj.core.api.Assertions.catchThrowable(() -> map(mapper, er7));
    }

    @Test
    void whereSelectsTheFieldRepetitionAndTheSystemComesFromItsAuthority() {
        SupplyUsage usage = map(RIVERSIDE, riverside());
        // PID-3 sends the EMPI id first; where PID-3-5 = MR picks the MRN and CX-4 gives its system
        assertThat(usage.patient().value()).isEqualTo("R4478120");
        assertThat(usage.patient().system()).isEqualTo("https://fhir.riverside.example.org/sid/mrn");
        assertThat(usage.patientIdType()).isEqualTo("MR");
    }

    @Test
    void anUnknownAuthorityOrNoneIsAnErrorNamingTheField() {
        String er7 = withField(riverside(), "PID", 0, 3, "E771203^^^RIVERSIDE_EMPI^PI~R4478120^^^ELSEWHERE^MR");
        MappingException e = refused(RIVERSIDE, er7);
        assertThat(e.errorCode()).isEqualTo(ErrorCode.TABLE_VALUE_NOT_FOUND);
        assertThat(e.path()).isEqualTo("PID-3-4-1");
        assertThat(e.getMessage()).contains("'ELSEWHERE' is not in lookup table authorities (mappings/authorities.csv)");

        e = refused(RIVERSIDE, withField(riverside(), "PID", 0, 3, "R4478120^^^^MR"));
        assertThat(e.errorCode()).isEqualTo(ErrorCode.REQUIRED_FIELD_MISSING);
        assertThat(e.getMessage()).contains("PID-3-4-1").contains("patient identifier system is missing");
    }

    @Test
    void transactionIdFallsBackToATemplateOfMessageFieldsStableAndDistinctAcrossMessages() {
        List<Line> first = map(RIVERSIDE, riverside()).lines();
        List<Line> again = map(RIVERSIDE, riverside()).lines();
        List<Line> next = map(RIVERSIDE, sample("riverside-ir", "same-control-id-next-day")).lines();
        assertThat(first).extracting(Line::transactionId).containsExactly("20261120161502-0500-MSG00001-1",
                "RIV-88410-2", "20261120161502-0500-MSG00001-3", "20261120161502-0500-MSG00001-4",
                "20261120161502-0500-MSG00001-5");
        assertThat(again).extracting(Line::transactionId).isEqualTo(first.stream().map(Line::transactionId).toList());
        // both messages have MSH-10 MSG00001 and FT1-1 = 1: the ids still differ
        assertThat(next.get(0).transactionId()).isEqualTo("20261121094410-0500-MSG00001-1")
                .isNotIn(first.stream().map(Line::transactionId).toList());
    }

    @Test
    void aTemplateWithAnEmptyPlaceholderIsEmptySoTheRequiredIdIsMissing() {
        String er7 = withField(riverside(), "MSH", 0, 7, "");
        MappingException e = refused(RIVERSIDE, er7);
        assertThat(e.errorCode()).isEqualTo(ErrorCode.REQUIRED_FIELD_MISSING);
        assertThat(e.lineIndex()).isEqualTo(1);
        assertThat(e.getMessage()).contains("transaction id is missing");
    }

    @Test
    void datesKeepThePrecisionSent() {
        List<Line> lines = map(RIVERSIDE, riverside()).lines();
        assertThat(lines.get(1).serviceDatePrecision()).isEqualTo(ChronoUnit.DAYS);
        assertThat(lines.get(1).serviceDate().toLocalDate()).hasToString("2026-11-20");
        assertThat(lines.get(0).serviceDatePrecision()).isEqualTo(ChronoUnit.SECONDS);
        assertThat(lines.get(0).enteredDate()).hasToString("2026-11-20T16:15:02-05:00");
        assertThat(lines.get(0).enteredDatePrecision()).isEqualTo(ChronoUnit.SECONDS);
        Line dateOnly = map(RIVERSIDE, withField(riverside(), "FT1", 0, 5, "20261121")).lines().get(0);
        assertThat(dateOnly.enteredDatePrecision()).isEqualTo(ChronoUnit.DAYS);
        assertThat(dateOnly.enteredDate().toLocalDate()).hasToString("2026-11-21");
    }

    @Test
    void servicesAreChargedWithoutStockAndTheirCodeSystemComesFromTheLookupTable() {
        List<Line> lines = map(RIVERSIDE, riverside()).lines();
        assertThat(lines).extracting(Line::index, Line::use, Line::movesStock).containsExactly(
                tuple(1, Use.SUPPLY, true), tuple(2, Use.SUPPLY, true), tuple(3, Use.SERVICE, false),
                tuple(4, Use.SERVICE, false), tuple(5, Use.SUPPLY, true));
        Line known = lines.get(2);      // C4|36903: in the item master as stock=false
        assertThat(known.master().itemId()).isEqualTo("SVC-36903");
        assertThat(known.itemSystemUri()).isEqualTo("http://www.ama-assn.org/go/cpt");
        Line unknown = lines.get(3);    // 75710 sent without FT1-7-3: not in the item master, still billed
        assertThat(unknown.master()).isNull();
        assertThat(unknown.item().value()).isEqualTo("75710");
        assertThat(unknown.itemSystemUri()).isEqualTo("http://www.ama-assn.org/go/cpt");
        assertThat(unknown.extendedPrice()).isEqualByComparingTo("640.00");
        assertThat(unknown.chargeable()).isTrue();
        assertThat(lines.get(0).itemSystemUri()).isEqualTo("https://fhir.riverside.example.org/sid/item");
    }

    @Test
    void anUnknownSupplyItemIsStillRefused() {
        MappingException e = refused(RIVERSIDE, withField(riverside(), "FT1", 1, 7, "699999^UNKNOWN WIRE^RIVITEM"));
        assertThat(e.errorCode()).isEqualTo(ErrorCode.TABLE_VALUE_NOT_FOUND);
        assertThat(e.lineIndex()).isEqualTo(2);
        assertThat(e.getMessage()).contains("item 'RIVITEM|699999' is not in the item master");
    }

    @Test
    void anUnknownCodingSystemIsRefusedNamingTheField() {
        MappingException e = refused(RIVERSIDE, withField(riverside(), "FT1", 1, 7, "600120^GUIDEWIRE^XYZ"));
        assertThat(e.errorCode()).isEqualTo(ErrorCode.TABLE_VALUE_NOT_FOUND);
        assertThat(e.path()).isEqualTo("FT1-7-3");
        assertThat(e.getMessage()).contains("'XYZ' is not in lookup table codeSystems");
    }

    @Test
    void onlyTheImplantRolePrtBecomesADevice() {
        Line stent = map(RIVERSIDE, riverside()).lines().get(0);
        assertThat(stent.implants()).singleElement().satisfies(d -> {
            assertThat(d.deviceIdentifier()).isEqualTo("00884450123454");
            assertThat(d.lot()).isEqualTo("CX2231");
            assertThat(d.serial()).isEqualTo("SN88213");
            assertThat(d.expiry()).hasToString("2028-11-30");
            assertThat(d.manufacturer()).isEqualTo("CORDIS");
        });
        // the C-arm's PRT as an implant: a device the stent's item master row does not know, refused
        String bothImplants = riverside().replace("EQUIP^Equipment^HL70912", "IMP^Implanted device^L");
        MappingException e = refused(RIVERSIDE, bothImplants);
        assertThat(e.getMessage()).contains("does not match the item master GTIN 00884450123454");
    }

    @Test
    void newLineFieldsAreMapped() {
        List<Line> lines = map(RIVERSIDE, riverside()).lines();
        Line stent = lines.get(0);
        assertThat(stent.reasons()).extracting(SupplyUsage.Coding::system, SupplyUsage.Coding::code).containsExactly(
                tuple("http://hl7.org/fhir/sid/icd-10-cm", "N18.6"), tuple("http://hl7.org/fhir/sid/icd-10-cm", "T82.858A"));
        assertThat(stent.reasons().get(0).display()).isEqualTo("End stage renal disease");
        assertThat(stent.enterer().value()).isEqualTo("2218834");
        assertThat(stent.performingOrganization()).isEqualTo(
                new SupplyUsage.Ref("https://fhir.riverside.example.org/sid/facility", "RIVIR"));
        assertThat(stent.orderingOrganization().value()).isEqualTo("RIVNEPH");
        assertThat(stent.notes()).containsExactly("Stent deployed across the venous anastomosis", "Post-dilated to 8 mm");
        assertThat(lines.get(1).notes()).isEmpty();
        assertThat(lines.get(1).reasons()).isEmpty();
        assertThat(lines.get(4).ndc()).isEqualTo(new SupplyUsage.Coding("http://hl7.org/fhir/sid/ndc", "0407-1414-91",
                "OMNIPAQUE 350 MG/ML 100 ML"));
    }

    @Test
    void tooLongNewFieldsAreRefusedLikeTheOthers() {
        MappingException e = refused(RIVERSIDE, withField(riverside(), "FT1", 0, 24, "X".repeat(65)));
        assertThat(e.errorCode()).isEqualTo(ErrorCode.DATA_TYPE_ERROR);
        assertThat(e.path()).isEqualTo("FT1-24-1");
    }

    @Test
    void v23DeviceDataInObxBecomesOneDevicePerSubId() {
        SupplyUsage usage = map(VALLEY, sample("valley-cath", "iliac-stents-obx"));
        Line stents = usage.lines().get(0);
        assertThat(stents.quantity()).isEqualByComparingTo("2");
        assertThat(stents.implants()).extracting(Implant::serial, Implant::lot, Implant::deviceIdentifier)
                .containsExactly(tuple("A0093311", "BSC4471", "00849476123451"), tuple("A0093312", "BSC4471", "00849476123451"));
        assertThat(stents.implants()).allSatisfy(d -> assertThat(d.expiry()).hasToString("2029-01-31"));
        // the fluoroscopy-time OBX is no device, and the next FT1 has none of the first one's OBX
        assertThat(usage.lines().get(1).implants()).isEmpty();
        assertThat(usage.lines().get(1).master().itemId()).isEqualTo("INV-500120");
    }

    @Test
    void obxDevicesStillGetTheUdiChecks() {
        String er7 = sample("valley-cath", "iliac-stents-obx");
        // the separate lot of device 1 disagrees with its UDI
        MappingException e = refused(VALLEY, er7.replace("OBX|2|ST|LOT^Lot number^L|1|BSC4471", "OBX|2|ST|LOT^Lot number^L|1|BSC9999"));
        assertThat(e.errorCode()).isEqualTo(ErrorCode.DATA_TYPE_ERROR);
        assertThat(e.getMessage()).contains("lot differs from the one in the UDI");
        e = refused(VALLEY, er7.replace("(01)00849476123451(17)290131(10)BSC4471(21)A0093312", "(01)00849476123452(21)A0093312"));
        assertThat(e.getMessage()).contains("bad UDI");
    }

    @Test
    void classifySkipsLinesAndAMessageOfOnlySkippedLinesIsFiltered() throws IOException {
        java.nio.file.Path dir = Files.createTempDirectory("profiles");
        for (String f : List.of("item-master.csv", "code-systems.csv", "authorities.csv")) {
            Files.copy(MAPPINGS.resolve(f), dir.resolve(f));
        }
        Files.writeString(dir.resolve("p.yaml"), Files.readString(MAPPINGS.resolve("riverside-ir.yaml")).replace(
                "  classify:                                   # first match wins; no match: a supply line\n",
                "  classify:\n    - { when: { FT1-7-1: [\"75710\", \"600900\"] }, as: skip }\n"));
        UsageMapper mapper = new ProfileLoader(dir).load("p", "p.yaml");
        SupplyUsage usage = map(mapper, riverside());
        assertThat(usage.skippedLines()).containsExactly(4, 5);
        assertThat(usage.lines()).extracting(Line::index).containsExactly(1, 2, 3);

        String onlySkipped = sample("riverside-ir", "same-control-id-next-day")
                .replace("600120^GUIDEWIRE", "600900^CONTRAST");
        // every line skipped: filtered, not refused — no lines, each index listed as skipped
        SupplyUsage filtered = map(mapper, onlySkipped);
        assertThat(filtered.lines()).isEmpty();
        assertThat(filtered.skippedLines()).containsExactly(1, 2);
        assertThat(filtered.patient().value()).isEqualTo("R4478120");

        // a message without any line group is still refused
        MappingException e = refused(mapper, onlySkipped.substring(0, onlySkipped.indexOf("\rFT1|")));
        assertThat(e.errorCode()).isEqualTo(ErrorCode.REQUIRED_FIELD_MISSING);
        assertThat(e.getMessage()).contains("no usage lines");
    }

    @Test
    void aLeadingSlashReadsTheMessageAndALinePathReadsTheLine() throws IOException {
        java.nio.file.Path dir = Files.createTempDirectory("profiles");
        Files.copy(MAPPINGS.resolve("item-master.csv"), dir.resolve("item-master.csv"));
        // the lakeside v2.8 model has PRT both at the root and in FINANCIAL: a line path reads the line's,
        // /PRT-… the message's (which this message does not have)
        Files.writeString(dir.resolve("p.yaml"), Files.readString(MAPPINGS.resolve("lakeside-cath.yaml"))
                .replace("    model: FT1-35\n", "    model: FT1-35\n    bodySite: /PRT-19\n")
                .replace("  performer: FT1-20-1\n", "  performer: FT1-20-1\n  enterer: { template: \"{MSH-3}-{FT1-1}\" }\n"));
        UsageMapper mapper = new ProfileLoader(dir).load("p", "p.yaml");
        Line line = map(mapper, MappingSupport.lakeside()).lines().get(0);
        assertThat(line.enterer().value()).isEqualTo("SURGINET-1");
        assertThat(line.implant().lot()).isEqualTo("123ABC");
        assertThat(line.implant().bodySite()).isNull();
    }

    @Test
    void whereSelectsAGroupRepetitionByAFieldOfAnotherSegmentInIt() throws IOException {
        java.nio.file.Path dir = Files.createTempDirectory("profiles");
        Files.copy(MAPPINGS.resolve("item-master.csv"), dir.resolve("item-master.csv"));
        // v2.8: PR1 groups under the FT1, each with its PRTs; the surgeon is the PRT of the PR1 whose code is 33208
        Files.writeString(dir.resolve("p.yaml"), Files.readString(MAPPINGS.resolve("lakeside-cath.yaml"))
                .replace("  performer: FT1-20-1\n", "  performer: { path: FINANCIAL_PROCEDURE/PRT-5-1, where: { FINANCIAL_PROCEDURE/PR1-3-1: \"33208\" } }\n"));
        UsageMapper mapper = new ProfileLoader(dir).load("p", "p.yaml");
        String er7 = MappingSupport.lakeside().replace("\rFT1|2|", "\rPR1|1||93000^ECG^C4||20261115133000"
                + "\rPRT|1|AD||AT^Attending^HL70912|1111111111^FIRST"
                + "\rPR1|2||33208^PACEMAKER^C4||20261115133000"
                + "\rPRT|1|AD||AT^Attending^HL70912|1987654321^BRANDT"
                + "\rFT1|2|");
        Line line = map(mapper, er7).lines().get(0);
        assertThat(line.performer().value()).isEqualTo("1987654321");
        assertThat(map(mapper, er7).lines().get(1).performer()).isNull();
    }

    @Test
    void eachDeviceReadsItsOwnSegmentWhenItsPathIsWrittenWithTheEachGroups() throws IOException {
        java.nio.file.Path dir = Files.createTempDirectory("profiles");
        Files.copy(MAPPINGS.resolve("item-master.csv"), dir.resolve("item-master.csv"));
        String yaml = Files.readString(MAPPINGS.resolve("lakeside-cath.yaml"));
        String implant = yaml.substring(yaml.indexOf("  implant:\n"), yaml.indexOf("\nitemMaster:"));
        // a device per procedure's PRT: the lot written with its group, the serial with the segment alone
        Files.writeString(dir.resolve("p.yaml"), yaml.replace(implant, "  devices:\n"
                + "    - { each: FINANCIAL_PROCEDURE/PRT, lot: FINANCIAL_PROCEDURE/PRT-19, serial: PRT-20 }\n"));
        UsageMapper mapper = new ProfileLoader(dir).load("p", "p.yaml");
        String er7 = MappingSupport.lakeside().replace("\rFT1|2|", "\rPR1|1||33208^PACEMAKER^C4||20261115133000"
                + "\rPRT|1|AD||IMP^Implant^HL70912|||||||||||||||LOT-A|SER-A"
                + "\rPR1|2||33208^PACEMAKER^C4||20261115133000"
                + "\rPRT|1|AD||IMP^Implant^HL70912|||||||||||||||LOT-B|SER-B"
                + "\rFT1|2|");
        assertThat(map(mapper, er7).lines().get(0).implants()).extracting(Implant::lot, Implant::serial)
                .containsExactly(tuple("LOT-A", "SER-A"), tuple("LOT-B", "SER-B"));
    }

    private static UsageMapper riversideWith(String authority) throws IOException {
        java.nio.file.Path dir = Files.createTempDirectory("profiles");
        for (String f : List.of("item-master.csv", "code-systems.csv", "authorities.csv")) {
            Files.copy(MAPPINGS.resolve(f), dir.resolve(f));
        }
        String yaml = Files.readString(MAPPINGS.resolve("riverside-ir.yaml"));
        assertThat(yaml).contains("  patientIdType:");
        Files.writeString(dir.resolve("p.yaml"), yaml.replace("  patientIdType:", "  patientAuthority: " + authority
                + "\n  patientIdType:"));
        return new ProfileLoader(dir).load("p", "p.yaml");
    }

    @Test
    void thePatientAuthorityComesFromTheRepetitionThePatientRulePicked() throws IOException {
        // PID-3: the EMPI id first, then the MRN; the patient rule picks the MRN (where PID-3-5 = MR)
        SupplyUsage usage = map(riversideWith("PID-3-4"), riverside());
        assertThat(usage.patient().value()).isEqualTo("R4478120");
        assertThat(usage.patientAuthority().namespace()).isEqualTo("RIVERSIDE");

        // its own where picks another repetition
        usage = map(riversideWith("{ path: PID-3-4-1, where: { PID-3-5: PI } }"), riverside());
        assertThat(usage.patientAuthority().namespace()).isEqualTo("RIVERSIDE_EMPI");

        // CX-4's universal id and its type come from the same repetition
        String er7 = withField(riverside(), "PID", 0, 3,
                "E771203^^^RIVERSIDE_EMPI&1.2.3&ISO^PI~R4478120^^^RIVERSIDE&2.16.840.1.9&ISO^MR");
        assertThat(map(riversideWith("PID-3-4"), er7).patientAuthority())
                .isEqualTo(new SupplyUsage.Assigner("RIVERSIDE", "2.16.840.1.9", "ISO"));
    }

    @Test
    void aPatientAuthorityRuleThatIsNotAPathIsALoadError() {
        assertThatThrownBy(() -> riversideWith("{ path: PID-3-4-1, lookup: authorities }"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("mappings/p.yaml: line ")
                .hasMessageContaining("message.patientAuthority must be a path to CX-4");
        assertThatThrownBy(() -> riversideWith("{ first: [PID-3-4-1, PID-2-4-1] }"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("message.patientAuthority must be a path to CX-4");
    }

    /** A real v2.8 DFT^P03 that counts how often its names are copied out. */
    public static final class CountingDft extends ca.uhn.hl7v2.model.v28.message.DFT_P03 {
        int namesCopied;

        public CountingDft() {
            super();
        }

        public CountingDft(ca.uhn.hl7v2.parser.ModelClassFactory factory) {
            super(factory);
        }

        @Override
        public String[] getNames() {
            namesCopied++;
            return super.getNames();
        }
    }

    @Test
    void mappingAMessageDoesNotCopyItsGroupsNamesOnEveryPathStep() throws Exception {
        CountingDft message = new CountingDft();
        new ca.uhn.hl7v2.parser.PipeParser().parse(message, MappingSupport.lakeside());
        message.namesCopied = 0;
        SupplyUsage usage = MappingSupport.LAKESIDE.map(message, "SURGINET^LAKESIDE_OR", "LK-5521907", "DFT^P03");
        assertThat(usage.lines()).hasSize(2);
        assertThat(usage.lines().get(0).implant().lot()).isEqualTo("123ABC");
        assertThat(message.namesCopied).isZero();
    }
}
