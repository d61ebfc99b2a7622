package org.supplyhub.mapping.structure;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Paths checked against HAPI's own models of DFT^P03 in v2.3, v2.5.1 and v2.8. */
class MessageStructuresTest {

    private final MessageStructure v23 = MessageStructures.of("2.3", "DFT^P03");
    private final MessageStructure v251 = MessageStructures.of("2.5.1", "DFT^P03");
    private final MessageStructure v28 = MessageStructures.of("2.8", "DFT^P03");

    private static final List<String> FINANCIAL = List.of("FINANCIAL");

    @Test
    void realPathsExist() {
        assertThat(v28.check(List.of(), "MSH", 10, 0, 0)).isNull();
        assertThat(v28.check(List.of(), "PID", 3, 4, 1)).isNull();
        assertThat(v28.check(FINANCIAL, "FT1", 7, 1, 0)).isNull();
        assertThat(v28.check(FINANCIAL, "FT1", 43, 0, 0)).isNull();
        assertThat(v28.check(FINANCIAL, "PRT", 10, 1, 0)).isNull();
        assertThat(v28.check(List.of("FINANCIAL", "FINANCIAL_PROCEDURE"), "PRT", 4, 1, 0)).isNull();
        assertThat(v251.check(FINANCIAL, "FT1", 20, 9, 1)).as("XCN-9 is an HD").isNull();
        assertThat(v251.check(List.of("FINANCIAL", "FINANCIAL_COMMON_ORDER", "FINANCIAL_OBSERVATION"), "OBX", 5, 3, 0))
                .as("OBX-5 varies: its components are not checked").isNull();
        assertThat(v23.check(List.of(), "OBX", 3, 1, 0)).as("v2.3 DFT_P03 has OBX at the root").isNull();
        assertThat(v23.check(FINANCIAL, "FT1", 25, 1, 0)).isNull();
    }

    @Test
    void misspeltGroupSuggestsTheRealOne() {
        assertThat(v28.check(List.of("FINANCIAL", "FINANCIAL_PROCEDUR"), "PRT", 16, 1, 0))
                .isEqualTo("group FINANCIAL_PROCEDUR is not in group FINANCIAL of DFT_P03 (v2.8) (nor anywhere else in it);"
                        + " did you mean FINANCIAL_PROCEDURE?");
        assertThat(v28.check(List.of("FINANCIAL_PROCEDUR"), "PRT", 16, 1, 0))
                .isEqualTo("group FINANCIAL_PROCEDUR does not exist in DFT_P03 (v2.8);"
                        + " did you mean FINANCIAL_PROCEDURE (in FINANCIAL)?");
    }

    @Test
    void misspeltSegmentSuggestsTheRealOne() {
        assertThat(v28.check(FINANCIAL, "PTR", 10, 1, 0))
                .isEqualTo("segment PTR is not in group FINANCIAL of DFT_P03 (v2.8) (nor anywhere else in it); did you mean PRT?");
        assertThat(v28.check(List.of(), "PTR", 10, 1, 0))
                .isEqualTo("segment PTR does not exist in DFT_P03 (v2.8); did you mean PRT?");
        assertThat(v251.check(FINANCIAL, "PTR", 10, 1, 0))
                .as("v2.5.1 has no PRT and no segment one edit away: the group's segments are listed")
                .isEqualTo("segment PTR is not in group FINANCIAL of DFT_P03 (v2.5.1) (nor anywhere else in it);"
                        + " group FINANCIAL has FT1, NTE");
        assertThat(v251.check(FINANCIAL, "FT2", 1, 0, 0)).endsWith("; did you mean FT1?");
    }

    @Test
    void aNameInTheWrongPlaceSaysWhereItIs() {
        assertThat(v28.check(FINANCIAL, "PR1", 3, 1, 0))
                .isEqualTo("segment PR1 is not in group FINANCIAL of DFT_P03 (v2.8); it is in FINANCIAL/FINANCIAL_PROCEDURE");
        assertThat(v28.check(List.of(), "FT1", 7, 0, 0))
                .isEqualTo("segment FT1 is not in DFT_P03 (v2.8); it is in FINANCIAL");
        assertThat(v23.check(FINANCIAL, "PRT", 10, 0, 0)).startsWith("segment PRT is not in group FINANCIAL of DFT_P03 (v2.3)");
        assertThat(v28.check(List.of("FINANCIAL", "FT1"), "PRT", 1, 0, 0))
                .isEqualTo("FT1 is a segment, not a group, in group FINANCIAL of DFT_P03 (v2.8)");
    }

    @Test
    void zSegmentsAreAllowedAnywhereButTheirGroupsAreChecked() {
        assertThat(v251.check(FINANCIAL, "ZIM", 8, 2, 0)).isNull();
        assertThat(v251.check(List.of(), "ZZZ", 99, 0, 0)).isNull();
        assertThat(v251.check(List.of("FINANCIALS"), "ZIM", 2, 0, 0))
                .isEqualTo("group FINANCIALS does not exist in DFT_P03 (v2.5.1); did you mean FINANCIAL?");
    }

    @Test
    void fieldsComponentsAndSubcomponentsFollowTheDatatypes() {
        assertThat(v251.check(FINANCIAL, "FT1", 32, 0, 0))
                .isEqualTo("FT1-32 does not exist: FT1 has 31 fields in v2.5.1");
        assertThat(v28.check(FINANCIAL, "PRT", 10, 5, 0))
                .isEqualTo("PRT-10-5 does not exist: PRT-10 is an EI with 4 components");
        assertThat(v28.check(FINANCIAL, "FT1", 10, 2, 0))
                .isEqualTo("FT1-10-2 does not exist: FT1-10 is an NM, which has no components");
        assertThat(v28.check(FINANCIAL, "FT1", 10, 1, 0)).as("component 1 of a primitive is the value").isNull();
        assertThat(v28.check(List.of(), "PID", 3, 4, 2)).as("CX-4 is an HD").isNull();
        assertThat(v28.check(List.of(), "PID", 3, 4, 4))
                .isEqualTo("PID-3-4-4 does not exist: PID-3-4 is an HD with 3 subcomponents");
        assertThat(v28.check(List.of(), "PID", 3, 1, 2))
                .isEqualTo("PID-3-1-2 does not exist: PID-3-1 is an ST, which has no subcomponents");
        assertThat(v28.check(List.of(), "PID", 0, 0, 0)).isEqualTo("PID-0 does not exist: fields are numbered from 1");
    }

    @Test
    void v28PrtAllowsTheStandardsUdiFieldsHapiLacks() {
        assertThat(v28.check(FINANCIAL, "PRT", 16, 1, 0)).as("UDI device identifier, an EI").isNull();
        assertThat(v28.check(FINANCIAL, "PRT", 19, 0, 0)).as("lot number").isNull();
        assertThat(v28.check(FINANCIAL, "PRT", 16, 5, 0)).isEqualTo("PRT-16-5 does not exist: PRT-16 is an EI with 4 components");
        assertThat(v28.check(FINANCIAL, "PRT", 19, 2, 0)).isEqualTo("PRT-19-2 does not exist: PRT-19 is an ST, which has no components");
        assertThat(v28.check(FINANCIAL, "PRT", 24, 0, 0)).isNull();
        assertThat(v28.check(FINANCIAL, "PRT", 25, 0, 0)).isEqualTo("PRT-25 does not exist: PRT has 24 fields in v2.8");
        assertThat(v28.check(FINANCIAL, "FT1", 44, 0, 0)).as("only the listed segments are extended")
                .isEqualTo("FT1-44 does not exist: FT1 has 43 fields in v2.8");
    }

    @Test
    void containsLooksAtAnyDepth() {
        assertThat(v28.contains(FINANCIAL, "PRT")).isTrue();
        assertThat(v28.contains(FINANCIAL, "PR1")).isTrue();
        assertThat(v28.contains(FINANCIAL, "FINANCIAL_OBSERVATION")).isTrue();
        assertThat(v28.contains(FINANCIAL, "PID")).isFalse();
        assertThat(v28.contains(List.of(), "OBX")).isTrue();
        assertThat(v28.contains(List.of("NOPE"), "FT1")).isFalse();
        assertThat(v23.contains(FINANCIAL, "OBX")).as("v2.3 keeps OBX outside FINANCIAL").isFalse();
    }

    @Test
    void findGroupGivesThePathFromTheRoot() {
        assertThat(v28.findGroup("FINANCIAL")).contains(List.of("FINANCIAL"));
        assertThat(v28.findGroup("FINANCIAL_PROCEDURE")).contains(List.of("FINANCIAL", "FINANCIAL_PROCEDURE"));
        assertThat(v251.findGroup("FINANCIAL_OBSERVATION"))
                .contains(List.of("FINANCIAL", "FINANCIAL_COMMON_ORDER", "FINANCIAL_OBSERVATION"));
        assertThat(v28.findGroup("FT1")).as("a segment is not a group").isEqualTo(Optional.empty());
        assertThat(v23.findGroup("FINANCIAL_COMMON_ORDER")).isEmpty();
    }

    @Test
    void eventsMapToTheirStructureAndAreCached() {
        assertThat(MessageStructures.of("2.5.1", "ADT^A04").name()).isEqualTo("ADT_A01");
        assertThat(MessageStructures.of("2.8", "DFT^P03^DFT_P03")).isSameAs(v28);
        assertThat(MessageStructures.of("2.8", "DFT_P03")).isSameAs(v28);
        assertThat(MessageStructures.of("2.8", "DFT^P11").name()).isEqualTo("DFT_P11");
        assertThat(v28).hasToString("DFT_P03 (v2.8)");
    }

    @Test
    void unknownVersionOrTypeIsATypedError() {
        assertThatThrownBy(() -> MessageStructures.of("2.9", "DFT^P03"))
                .isInstanceOf(UnknownMessageStructureException.class)
                .hasMessageStartingWith("HL7 version 2.9 is not supported (known: 2.3,");
        assertThatThrownBy(() -> MessageStructures.of("2.8", "DFT^Q99"))
                .isInstanceOf(UnknownMessageStructureException.class)
                .hasMessage("message type DFT^Q99 is not defined in HL7 v2.8 (no structure DFT_Q99)");
        assertThat(MessageStructures.versions()).contains("2.3", "2.5.1", "2.8");
    }
}
