package org.supplyhub.mapping;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;
import static org.supplyhub.mapping.MappingSupport.MAPPINGS;

/** Load-time checks of profiles, lookup tables and the item master: one line per problem, naming the file that is wrong. */
class ProfileLoadCheckTest {

    @TempDir
    Path dir;

    @BeforeEach
    void copyShipped() throws IOException {
        for (String f : List.of("item-master.csv", "code-systems.csv", "authorities.csv", "riverside-ir.yaml",
                "valley-cath.yaml", "lakeside-cath.yaml", "mercy-or.yaml")) {
            Files.copy(MAPPINGS.resolve(f), dir.resolve(f));
        }
    }

    private void edit(String file, String from, String to) throws IOException {
        String text = Files.readString(dir.resolve(file));
        assertThat(text).contains(from);
        Files.writeString(dir.resolve(file), text.replace(from, to));
    }

    private static int lineOf(Path file, String needle) throws IOException {
        List<String> lines = Files.readAllLines(file);
        for (int i = 0; i < lines.size(); i++) {
            if (lines.get(i).contains(needle)) {
                return i + 1;
            }
        }
        throw new AssertionError(needle + " not in " + file);
    }

    private UsageMapper load(String name) {
        return new ProfileLoader(dir).load(name, name + ".yaml");
    }

    @Test
    void theShippedProfilesLoad() {
        for (String name : List.of("riverside-ir", "valley-cath", "lakeside-cath", "mercy-or")) {
            assertThat(load(name).profile().hl7Version()).isNotBlank();
        }
    }

    @Test
    void aMisspeltSegmentIsALoadErrorWithItsLine() throws IOException {
        edit("lakeside-cath.yaml", "udi: PRT-10-1", "udi: PTR-10-1");
        int line = lineOf(dir.resolve("lakeside-cath.yaml"), "udi: PTR-10-1");
        assertThatThrownBy(() -> load("lakeside-cath"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageStartingWith("mappings/lakeside-cath.yaml: line " + line + ": line.implant.udi: 'PTR-10-1'")
                .hasMessageContaining("PTR");
    }

    @Test
    void aMisspeltGroupIsALoadErrorWithItsLine() throws IOException {
        edit("riverside-ir.yaml", "udi: PRT-10-1", "udi: FINANCIAL_PROCEDUR/PRT-10-1");
        int line = lineOf(dir.resolve("riverside-ir.yaml"), "FINANCIAL_PROCEDUR/");
        assertThatThrownBy(() -> load("riverside-ir"))
                .hasMessageStartingWith("mappings/riverside-ir.yaml: line " + line + ": line.devices[0].udi: 'FINANCIAL_PROCEDUR/PRT-10-1'");
    }

    @Test
    void aFieldTheVersionDoesNotHaveIsALoadError() throws IOException {
        // v2.3 FT1 ends at FT1-26 (or so): FT1-32 is not there
        edit("valley-cath.yaml", "  procedure: FT1-25-1\n", "  procedure: FT1-25-1\n  performingOrganization: FT1-32-10\n");
        int line = lineOf(dir.resolve("valley-cath.yaml"), "performingOrganization");
        assertThatThrownBy(() -> load("valley-cath"))
                .hasMessageStartingWith("mappings/valley-cath.yaml: line " + line + ": line.performingOrganization: 'FT1-32-10'");
    }

    @Test
    void everyProblemIsOneLine() throws IOException {
        edit("valley-cath.yaml", "udi: { path: OBX-5, where: { OBX-3-1: UDI } }", "udi: { path: OBX-5, where: { OBX-3-1: UDI }, lookup: nope }");
        edit("valley-cath.yaml", "each: OBX", "each: OBZ");
        edit("valley-cath.yaml", "hl7Version: \"2.3\"\n", "");
        Throwable e = org.assertj.core.api.Assertions.catchThrowable(() -> load("valley-cath"));
        String[] lines = e.getMessage().split("\n");
        assertThat(lines).allSatisfy(l -> assertThat(l).matches("mappings/valley-cath\\.yaml: (line \\d+: )?.+"));
        assertThat(e.getMessage()).contains("hl7Version is required")
                .contains("lookup table 'nope' is not declared under lookups");
    }

    @Test
    void problemsAreTypedWithFileAndLine() throws IOException {
        edit("riverside-ir.yaml", "serviceDate: FT1-4", "serviceDate: FT1-4-9");
        edit("riverside-ir.yaml", "notes: NTE-3", "notes: NTE-33");
        ConfigurationException e = (ConfigurationException) org.assertj.core.api.Assertions.catchThrowable(
                () -> load("riverside-ir"));
        assertThat(e.problems()).extracting(ConfigurationException.Problem::file, ConfigurationException.Problem::line)
                .containsExactly(
                        tuple("mappings/riverside-ir.yaml", lineOf(dir.resolve("riverside-ir.yaml"), "serviceDate: FT1-4-9")),
                        tuple("mappings/riverside-ir.yaml", lineOf(dir.resolve("riverside-ir.yaml"), "notes: NTE-33")));
    }

    @Test
    void whereMustSelectSomethingAndClassifyNeedsAUse() throws IOException {
        edit("riverside-ir.yaml", "where: { PID-3-5: MR }, required: true", "where: { PV1-2: O }, required: true");
        edit("riverside-ir.yaml", "as: service }", "as: maybe }");
        Throwable e = org.assertj.core.api.Assertions.catchThrowable(() -> load("riverside-ir"));
        assertThat(e).isInstanceOf(ConfigurationException.class);
        assertThat(e.getMessage()).contains("mappings/riverside-ir.yaml: line");
    }

    @Test
    void whereOnPidSelectsAFieldRepetitionOfTheSameSegment() throws IOException {
        edit("riverside-ir.yaml", "where: { PID-3-5: MR }, required: true", "where: { PV1-2: O }, required: true");
        int line = lineOf(dir.resolve("riverside-ir.yaml"), "where: { PV1-2: O }");
        assertThatThrownBy(() -> load("riverside-ir"))
                .hasMessageContaining("mappings/riverside-ir.yaml: line " + line + ": message.patient.where: each condition must name a field of the same segment");
    }

    @Test
    void aBadLookupRowNamesTheCsvAndItsLine() throws IOException {
        edit("code-systems.csv", "I10,http://hl7.org/fhir/sid/icd-10-cm,ICD-10-CM", "I10,,ICD-10-CM");
        assertThatThrownBy(() -> load("riverside-ir"))
                .hasMessage("mappings/code-systems.csv: line 5: value of code 'I10' is empty");
        edit("code-systems.csv", "I10,,ICD-10-CM", "C4,http://x.example/cpt,dup");
        assertThatThrownBy(() -> load("riverside-ir"))
                .hasMessage("mappings/code-systems.csv: line 5: code 'C4' appears twice");
    }

    @Test
    void aBadItemMasterStockValueNamesTheCsvNotTheProfile() throws IOException {
        edit("item-master.csv", "RIVITEM|600900,true", "RIVITEM|600900,maybe");
        int line = lineOf(dir.resolve("item-master.csv"), "RIVITEM|600900");
        assertThatThrownBy(() -> load("mercy-or"))
                .hasMessage("mappings/item-master.csv: line " + line + ": stock must be true, false or empty (= true), not 'maybe'");
    }

    @Test
    void sharedCsvFilesAreReadOncePerLoader() {
        ProfileLoader loader = new ProfileLoader(dir);
        UsageMapper mercy = loader.load("mercy-or", "mercy-or.yaml");
        UsageMapper riverside = loader.load("riverside-ir", "riverside-ir.yaml");
        assertThat(riverside.itemMaster()).isSameAs(mercy.itemMaster());
    }

    @Test
    void hubOwnIdentifierSystemsMustBeUris() throws IOException {
        edit("riverside-ir.yaml", "transaction: https://fhir.riverside.example.org/sid/ir-transaction",
                "transaction: { path: MSH-4-1 }");
        int line = lineOf(dir.resolve("riverside-ir.yaml"), "transaction: { path");
        assertThatThrownBy(() -> load("riverside-ir"))
                .hasMessage("mappings/riverside-ir.yaml: line " + line + ": systems.transaction names the hub's own identifiers: it must be a URI, not a rule");
    }

    @Test
    void aDevicePathOutsideTheDeviceIsALoadErrorNamingItsLine() throws IOException {
        // each PRT of the line is a device; a path through the procedure group reads the line's first one
        edit("riverside-ir.yaml", "      lot: PRT-19\n", "      lot: FINANCIAL_PROCEDURE/PRT-19\n");
        int line = lineOf(dir.resolve("riverside-ir.yaml"), "lot: FINANCIAL_PROCEDURE/PRT-19");
        assertThatThrownBy(() -> load("riverside-ir"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageStartingWith("mappings/riverside-ir.yaml: line " + line
                        + ": line.devices[0].lot: 'FINANCIAL_PROCEDURE/PRT-19': not read from each device's own PRT");
    }

    @Test
    void aLookupTableUsedForASystemMustHoldOnlyUrisCheckedAtLoadWithItsCsvLine() throws IOException {
        // code-systems feeds line.item.systemUri and line.reason.system in the Riverside profile
        Files.writeString(dir.resolve("code-systems.csv"), Files.readString(dir.resolve("code-systems.csv"))
                + "LOCAL,local codes,Local\n");
        int line = lineOf(dir.resolve("code-systems.csv"), "LOCAL,");
        assertThatThrownBy(() -> load("riverside-ir"))
                .isInstanceOf(ConfigurationException.class)
                .hasMessage("mappings/code-systems.csv: line " + line + ": value of code 'LOCAL' is not an absolute"
                        + " URI, and line.item.systemUri (lookup codeSystems) uses it as a system");
    }

    @Test
    void aLookupTableProblemIsReportedWithTheProfilesOwn() throws IOException {
        edit("riverside-ir.yaml", "udi: PRT-10-1", "udi: PTR-10-1");
        Files.writeString(dir.resolve("authorities.csv"), Files.readString(dir.resolve("authorities.csv"))
                + "RIVERSIDE,https://example.org/again,Again\n");
        ConfigurationException e = (ConfigurationException) org.assertj.core.api.Assertions.catchThrowable(
                () -> load("riverside-ir"));
        assertThat(e.problems()).extracting(ConfigurationException.Problem::toString)
                .anySatisfy(p -> assertThat(p).startsWith("mappings/riverside-ir.yaml: line ").contains("PTR-10-1"))
                .anySatisfy(p -> assertThat(p).startsWith("mappings/authorities.csv: line 4: code 'RIVERSIDE' appears twice"));
    }

    @Test
    void aProfileSharedByTwoInterfacesIsReadOncePerLoaderAndMapsForEach() {
        ProfileLoader loader = new ProfileLoader(dir);
        UsageMapper first = loader.load("riverside-ir", "riverside-ir.yaml");
        UsageMapper second = loader.load("riverside-ir-2", "riverside-ir.yaml");
        assertThat(second.profile()).isSameAs(first.profile());
        assertThat(MappingSupport.map(second, ProfileLanguageTest.riverside()).interfaceId()).isEqualTo("riverside-ir-2");
    }
}
