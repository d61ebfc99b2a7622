package org.supplyhub.safety.recall;

import org.junit.jupiter.api.Test;
import org.supplyhub.mapping.ConfigurationException;
import org.supplyhub.safety.Recall;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RecallListTest {

    static final String HEADER = "di,lots,serial_from,serial_to,recall_number,class,date,text\n";
    static final String KNEE = "00889024123458";
    static final String PACER = "00643169001763";

    static RecallList list(String rows) {
        return RecallList.parseCsv(HEADER + rows, "mappings/recalls.csv");
    }

    @Test
    void matchesByLotList() {
        RecallList list = list(KNEE + ",LOT7781A; lot7790b ,,,Z-1234-2026,II,2026-10-02,Seal may be breached\n");
        Recall recall = list.find(KNEE, "LOT7781A", "SN1").orElseThrow();
        assertThat(recall).isEqualTo(new Recall("Z-1234-2026", Recall.RecallClass.II, LocalDate.of(2026, 10, 2),
                "Seal may be breached"));
        assertThat(list.find(KNEE, "LOT7790B", null)).contains(recall);     // listed in lower case: case-blind
        assertThat(list.find(KNEE, "LOT7781B", "SN1")).isEmpty();           // another lot
        assertThat(list.find(KNEE, null, "SN1")).isEmpty();                 // no lot sent: a lot recall cannot tell
        assertThat(list.find("00889024123465", "LOT7781A", null)).isEmpty(); // another DI
        // the DI as a GTIN-13 is the same device
        assertThat(list.find("0889024123458", "LOT7781A", null)).contains(recall);
    }

    @Test
    void matchesNumericSerialRangesByValue() {
        RecallList list = list(PACER + ",,100,1000,Z-0077-2026,I,2026-09-14,Battery depletion\n");
        assertThat(list.find(PACER, null, "999")).isPresent();     // text order would put 999 after 1000
        assertThat(list.find(PACER, null, "0100")).isPresent();    // leading zeros: same number
        assertThat(list.find(PACER, null, "1000")).isPresent();    // bounds included
        assertThat(list.find(PACER, null, "1001")).isEmpty();
        assertThat(list.find(PACER, null, "99")).isEmpty();
        assertThat(list.find(PACER, null, "A500")).isEmpty();      // not a number: another format
        assertThat(list.find(PACER, null, null)).isEmpty();
    }

    @Test
    void matchesAlphanumericSerialRangesAtTheirLength() {
        RecallList list = list(PACER + ",,SN0100,SN2000,Z-0078-2026,II,2026-09-15,\n");
        assertThat(list.find(PACER, "any", "SN0999")).isPresent();
        assertThat(list.find(PACER, null, "sn2000")).isPresent();
        assertThat(list.find(PACER, null, "SN2001")).isEmpty();
        assertThat(list.find(PACER, null, "SN999")).isEmpty();    // another length: text order is not the sequence
        assertThat(list.find(PACER, null, "SN0099")).isEmpty();
    }

    @Test
    void aRowWithoutLotsOrSerialsCoversTheWholeDiAndTheMostSevereRecallWins() {
        RecallList list = list(KNEE + ",,,,R-3,III,2026-01-01,advisory\n"
                + KNEE + ",LOT1,,,R-1,I,2025-05-05,serious\n"
                + KNEE + ",LOT1,,,R-2,II,2026-06-06,\n");
        assertThat(list.find(KNEE, "LOT9", null).orElseThrow().number()).isEqualTo("R-3");
        assertThat(list.find(KNEE, "LOT1", null).orElseThrow().number()).isEqualTo("R-1");
        assertThat(list.matches(KNEE, "LOT1", null).map(Recall::number)).containsExactly("R-1", "R-2", "R-3");
    }

    @Test
    void hibccDeviceIdentifiersMatchWithOrWithoutThePlus() {
        RecallList list = list("+H123PROD11,LOTA,,,H-1,II,2026-02-02,\n");
        assertThat(list.find("H123PROD11", "LOTA", null)).isPresent();
    }

    @Test
    void commentsAndBlankLinesAreAllowed() {
        RecallList list = RecallList.parseCsv("# the hospital's recall list\n" + HEADER + "\n"
                + KNEE + ",,,,R-1,Class II,2026-01-01,x\n\n", "mappings/recalls.csv");
        assertThat(list.size()).isEqualTo(1);
        assertThat(list.find(KNEE, null, null).orElseThrow().recallClass()).isEqualTo(Recall.RecallClass.II);
    }

    @Test
    void everyMalformedRowIsReportedWithItsFileAndLine() {
        assertThatThrownBy(() -> list(
                KNEE + ",LOT1,,,R-1,II,2026-01-01,ok\n"                     // line 2
                        + "00889024123459,LOT1,,,R-2,II,2026-01-01,x\n"     // 3: check digit
                        + KNEE + ",LOT1,SN1,SN2,R-3,II,2026-01-01,x\n"      // 4: lots and range
                        + KNEE + ",,SN1,,R-4,II,2026-01-01,x\n"             // 5: half a range
                        + KNEE + ",,A2,A10,R-5,II,2026-01-01,x\n"           // 6: unequal lengths
                        + KNEE + ",,900,100,R-6,II,2026-01-01,x\n"          // 7: backwards
                        + KNEE + ",,,,R-7,IV,2026-01-01,x\n"                // 8: class
                        + KNEE + ",,,,R-8,I,01/02/2026,x\n"                 // 9: date
                        + KNEE + ",,,,R-1,I,2026-01-01,ok\n"                // 10: R-1 again with another class
                        + ",,,,R-9,I,2026-01-01,x\n"))                      // 11: no DI
                .isInstanceOf(ConfigurationException.class)
                .satisfies(e -> assertThat(((ConfigurationException) e).problems()).extracting(Object::toString)
                        .containsExactly(
                                "mappings/recalls.csv: line 3: di '00889024123459' is not a valid GTIN (length 8, 12, 13 or 14, check digit)",
                                "mappings/recalls.csv: line 4: a row names lots or a serial range, not both; write two rows with the same recall_number",
                                "mappings/recalls.csv: line 5: serial_from and serial_to go together (for one serial, write it in both)",
                                "mappings/recalls.csv: line 6: serial range A2–A10 mixes letters and digits with bounds of different lengths; write both bounds at the same length (e.g. SN0100–SN2000)",
                                "mappings/recalls.csv: line 7: serial range 900–100 runs backwards",
                                "mappings/recalls.csv: line 8: class must be I, II or III (got 'IV')",
                                "mappings/recalls.csv: line 9: date must be YYYY-MM-DD (got '01/02/2026')",
                                "mappings/recalls.csv: line 10: recall R-1 is given with another class, date or text on an earlier line; rows of one recall must agree",
                                "mappings/recalls.csv: line 11: di is empty (the device identifier: a GTIN, or a HIBCC labeler+product+unit)"));
    }

    @Test
    void aWrongHeaderOrBrokenCsvIsRefused() {
        assertThatThrownBy(() -> RecallList.parseCsv("di,lot,recall_number,class\n" + KNEE + ",L,R,I\n", "mappings/recalls.csv"))
                .hasMessage("mappings/recalls.csv: line 1: header must name the columns " + RecallList.COLUMNS
                        + "; missing [date]; unknown [lot]");
        assertThatThrownBy(() -> list(KNEE + ",,,,R-1,I,2026-01-01,x\n" + KNEE + ",,,,R-2,I,2026-01-01,x,extra\n"))
                .hasMessageStartingWith("mappings/recalls.csv: line 3: not valid CSV");
    }

    @Test
    void anEmptyOrHeaderlessBodyIsRefusedButAHeaderAloneIsAListOfNoRecalls() {
        for (String empty : new String[] {"", "\n\n", "# only a comment\n"}) {
            assertThatThrownBy(() -> RecallList.parseCsv(empty, "https://recalls.example/list"))
                    .as("%s", empty).isInstanceOf(ConfigurationException.class)
                    .hasMessageStartingWith("https://recalls.example/list: line 1: no header line");
        }
        assertThatThrownBy(() -> RecallList.parseCsv(KNEE + ",LOT1,,,R-1,I,2026-01-01,x\n", "mappings/recalls.csv"))
                .hasMessageContaining("line 1: header must name the columns").hasMessageContaining("missing [class, date, di, recall_number]");
        assertThat(RecallList.parseCsv(HEADER, "mappings/recalls.csv").size()).isZero();
        assertThat(RecallList.parseCsv("# none today\n" + HEADER, "mappings/recalls.csv").size()).isZero();
    }

    @Test
    void aMissingFileIsAnEmptyList(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        assertThat(RecallList.load(dir).size()).isZero();
        Files.writeString(dir.resolve(RecallList.FILE), HEADER + KNEE + ",,,,R-1,I,2026-01-01,x\n");
        assertThat(RecallList.load(dir).find(KNEE, null, null)).isPresent();
    }

    @Test
    void readsTheFhirListForm() {
        String base = RecallList.EXTENSION_BASE;
        String json = """
                {"resourceType":"List","status":"current","mode":"working","entry":[
                 {"extension":[{"url":"%1$srecall-number","valueString":"Z-1234-2026"},
                               {"url":"%1$srecall-lot","valueString":"LOT7781A"},
                               {"url":"%1$srecall-lot","valueString":"LOT7790B"}],
                  "flag":{"coding":[{"code":"II"}]},"date":"2026-10-02",
                  "item":{"identifier":{"system":"http://hl7.org/fhir/NamingSystem/gs1-di","value":"%2$s"},"display":"Seal"}},
                 {"extension":[{"url":"%1$srecall-number","valueString":"Z-0077-2026"},
                               {"url":"%1$srecall-serial-from","valueString":"100"},
                               {"url":"%1$srecall-serial-to","valueString":"1000"}],
                  "flag":{"coding":[{"code":"I"}]},"date":"2026-09-14T10:00:00+02:00",
                  "item":{"identifier":{"value":"%3$s"}}}]}""".formatted(base, KNEE, PACER);
        RecallList list = RecallList.parseFhirList(json, "https://recalls.example/list");
        assertThat(list.find(KNEE, "LOT7790B", null).orElseThrow().text()).isEqualTo("Seal");
        assertThat(list.find(PACER, null, "999").orElseThrow().date()).isEqualTo(LocalDate.of(2026, 9, 14));
        assertThatThrownBy(() -> RecallList.parseFhirList(json.replace("\"II\"", "\"X\""), "https://recalls.example/list"))
                .hasMessage("https://recalls.example/list: entry 1: class must be I, II or III (got 'X')");
    }
}
