package org.supplyhub.ingest;

import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.hl7.Hl7Limits;
import org.supplyhub.hl7.Hl7Header;
import org.supplyhub.hl7.Hl7Charsets;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.HL7Exception;
import org.junit.jupiter.api.Test;
import org.supplyhub.support.Samples;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

/** The pre-parse shape check, MSH reading and ACK building, without Spring. */
class Hl7LimitsTest {

    static final Hl7Limits LIMITS = Hl7Limits.DEFAULTS;

    /** The issue's hostile message: Lakeside's DFT with PID-14 = "~^&" x 100,000 (301 KB). */
    static String hostile() {
        return Samples.withField(Samples.read(Samples.LAKESIDE), "PID", 14, "~^&".repeat(100_000));
    }

    /** A real-world big DFT: 500 FT1 lines, each with its ZIM. */
    static String fiveHundredLines() {
        String sample = Samples.read(Samples.MERCY);
        String[] segments = sample.split("\r");
        StringBuilder out = new StringBuilder();
        for (String s : segments) {
            if (!s.startsWith("FT1") && !s.startsWith("ZIM")) {
                out.append(s).append('\r');
            }
        }
        String ft1 = segments[6]; // the knee line
        String zim = segments[7];
        for (int i = 1; i <= 500; i++) {
            // each line its own knee: one serial on two lines is a suspect device (implant safety)
            out.append(ft1.replaceFirst("^FT1\\|3\\|TX-88120-3", "FT1|" + i + "|TX-88120-" + i)).append('\r')
                    .append(zim.replace("SN00042519", "SN%08d".formatted(i))).append('\r');
        }
        return out.toString();
    }

    @Test
    void realMessagesPass() {
        assertThat(LIMITS.check(Samples.read(Samples.MERCY))).isNull();
        assertThat(LIMITS.check(Samples.read(Samples.MERCY_CREDIT))).isNull();
        assertThat(LIMITS.check(Samples.read(Samples.LAKESIDE))).isNull();
        assertThat(LIMITS.check(Samples.read(Samples.MERCY).replace("\r", "\r\n"))).isNull();
        assertThat(LIMITS.check(fiveHundredLines())).isNull();
        assertThat(LIMITS.check("not HL7 at all")).as("not MSH: the caller's 'not HL7' answer").isNull();
    }

    @Test
    void hostileRepetitionsAreRefusedNamingTheField() {
        HL7Exception e = LIMITS.check(hostile());
        assertThat(e).isNotNull();
        assertThat(e.getMessage()).contains("repeats more than 100 times").contains("hub.hl7.max-repetitions");
        assertThat(e.getLocation().getSegmentName()).isEqualTo("PID");
        assertThat(e.getLocation().getSegmentRepetition()).isEqualTo(1);
        assertThat(e.getLocation().getField()).isEqualTo(14);
        assertThat(e.getErrorCode()).isEqualTo(102);
    }

    @Test
    void componentsSegmentsFieldLengthAndFieldCountAreBounded() {
        String mercy = Samples.read(Samples.MERCY);
        HL7Exception components = LIMITS.check(Samples.withField(mercy, "PV1", 7, "^&".repeat(300)));
        assertThat(components.getMessage()).contains("hub.hl7.max-components");
        assertThat(components.getLocation().getSegmentName()).isEqualTo("PV1");
        assertThat(components.getLocation().getField()).isEqualTo(7);

        HL7Exception digits = LIMITS.check(Samples.withField(mercy, "FT1", 10, "9".repeat(1_000_000)));
        assertThat(digits.getMessage()).contains("hub.hl7.max-field-length");
        assertThat(digits.getLocation().getSegmentName()).isEqualTo("FT1");
        assertThat(digits.getLocation().getField()).isEqualTo(10);

        HL7Exception segments = LIMITS.check(mercy + "\rNTE|1||x".repeat(6000));
        assertThat(segments.getMessage()).contains("hub.hl7.max-segments");
        assertThat(segments.getErrorCode()).isEqualTo(100);

        HL7Exception third = new Hl7Limits(null, 3, null, null, null)
                .check(mercy.replace("FT1|3|", "FT1|3|a~b~c~d"));
        assertThat(third.getLocation().getSegmentName()).isEqualTo("FT1");
        assertThat(third.getLocation().getSegmentRepetition()).as("the third FT1").isEqualTo(3);
        assertThat(third.getLocation().getField()).isEqualTo(2);

        HL7Exception fields = new Hl7Limits(null, null, null, null, 100).check(mercy);
        assertThat(fields.getMessage()).contains("hub.hl7.max-fields");
    }

    @Test
    void unusableMshIsAnErrorOnMsh1OrMsh2AndReadingItNeverThrows() {
        String mercy = Samples.read(Samples.MERCY);
        String[][] cases = {
                {"MSH\rEVN|P03|20261114093512", "1"},
                {"MSH", "1"},
                {"MSH|", "2"},
                {"MSH|^~", "2"},
                {"MSH|^~\n\\&|ORMGR|MERCY_OR|SUPPLYHUB|HUB|20261114093512||DFT^P03|X1|P|2.5.1", "2"},
                {"MSH|\n^~\\&|ORMGR", "2"},
                {"MSH|^^\\&|ORMGR|MERCY_OR", "2"},
                {"MSH||~\\&|ORMGR|MERCY_OR", "2"},
                {"MSH|^~\\&\u001c|ORMGR", "2"},
                {"MSH\u000b^~\\&\u000bORMGR", "1"},
                {"MSH|^~\\&abc|ORMGR", "2"},
        };
        for (String[] c : cases) {
            String text = IntakeService.normalizeSegments(c[0]);
            HL7Exception e = LIMITS.check(text);
            assertThat(e).as(c[0]).isNotNull();
            assertThat(e.getLocation().getSegmentName()).isEqualTo("MSH");
            assertThat(e.getLocation().getField()).as(c[0]).isEqualTo(Integer.parseInt(c[1]));
            assertThatCode(() -> Hl7Header.read(text)).doesNotThrowAnyException();
            assertThat(Hl7Header.read(text)).isNull();
        }
        // odd but usable delimiters are taken
        String odd = mercy.replace("|", "#").replace("^", "!").replace("~", "$").replace("\\&", "%*").replace("&", "*");
        assertThat(LIMITS.check(odd)).isNull();
        assertThat(Hl7Header.read(odd).controlId()).isEqualTo("OR20261114093512001");
        // every prefix of a real message: an answer, never an exception
        for (int i = 0; i < 120; i++) {
            String prefix = mercy.substring(0, i);
            assertThatCode(() -> Hl7Header.read(prefix)).doesNotThrowAnyException();
            assertThatCode(() -> LIMITS.check(prefix)).doesNotThrowAnyException();
        }
    }

    @Test
    void theScanIsLinearAndCheap() {
        String big = fiveHundredLines();
        String evil = hostile();
        for (int i = 0; i < 200; i++) { // warm up
            LIMITS.check(big);
        }
        long started = System.nanoTime();
        int runs = 200;
        for (int i = 0; i < runs; i++) {
            LIMITS.check(big);
        }
        long perBigMicros = (System.nanoTime() - started) / runs / 1000;
        started = System.nanoTime();
        for (int i = 0; i < runs; i++) {
            LIMITS.check(Samples.read(Samples.MERCY));
        }
        long perSampleMicros = (System.nanoTime() - started) / runs / 1000;
        started = System.nanoTime();
        LIMITS.check(evil);
        long evilMicros = (System.nanoTime() - started) / 1000;
        System.out.printf("shape check: %d us for a %d KB 500-line DFT, %d us for the sample (incl. reading it),"
                + " %d us to refuse the %d KB hostile message%n", perBigMicros, big.length() / 1024, perSampleMicros,
                evilMicros, evil.length() / 1024);
        assertThat(perBigMicros).isLessThan(20_000);
        assertThat(evilMicros).isLessThan(50_000);
    }

    @Test
    void acksUseStandardDelimitersAndEscapeControlCharacters() throws Exception {
        Hl7Support hl7 = new Hl7Support();
        // letters as delimiters: the sender's choice must not leak into the ACK (MSA-1 would be escaped)
        String mercy = Samples.read(Samples.MERCY);
        String letters = mercy.replace("|", "X").replace("^", "Y").replace("~", "Z").replace("\\", "Q").replace("&", "W");
        assertThat(LIMITS.check(letters)).isNull();
        String ack = hl7.ack(hl7.parse(letters), AcknowledgmentCode.AA, null, null);
        assertThat(ack).startsWith("MSH|^~\\&|").contains("\rMSA|AA|");

        // a raw FS / VT in the sender's MSH fields must not reach the ACK frame
        String fs = Samples.withControlId(mercy, "CTL\u001cID\u000b1").replace("|ORMGR|", "|OR\u001cMGR|");
        String parsedAck = hl7.ack(hl7.parse(fs), AcknowledgmentCode.AA, null, null);
        String nack = hl7.nack(Hl7Header.read(fs), AcknowledgmentCode.AR, new HL7Exception("bad\rthing\u001c"));
        for (String a : new String[] {parsedAck, nack}) {
            assertThat(a).doesNotContain("\u001c").doesNotContain("\u000b").contains("CTL\\X1C\\ID\\X0B\\1");
            assertThat(a.split("\r")).allMatch(s -> s.matches("^(MSH|MSA|ERR)\\|.*"));
        }
        assertThat(parsedAck).contains("|OR\\X1C\\MGR|");
    }

    @Test
    void japaneseCharsetsReadAndAnswerAsIso2022() {
        Charset fallback = StandardCharsets.ISO_8859_1;
        Charset jis = Hl7Charsets.detect(bytes("MSH|^~\\&|A|B|C|D|||DFT^P03|1|P|2.5.1|||AL|NE||ISO IR87"), fallback);
        assertThat(jis.name()).isEqualTo("ISO-2022-JP");
        assertThat(Hl7Charsets.detect(bytes("MSH|^~\\&|A|B|C|D|||DFT^P03|1|P|2.5.1|||AL|NE||~ISO IR87"), fallback).name())
                .isEqualTo("ISO-2022-JP");
        assertThat(Hl7Charsets.detect(bytes("MSH|^~\\&|A|B|C|D|||DFT^P03|1|P|2.5.1|||AL|NE||EBCDIC"), fallback))
                .isEqualTo(fallback);
        assertThat(Hl7Charsets.carriesDelimiters(jis)).isTrue();
        assertThat(Hl7Charsets.carriesDelimiters(Charset.forName("x-JIS0208"))).isFalse();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
