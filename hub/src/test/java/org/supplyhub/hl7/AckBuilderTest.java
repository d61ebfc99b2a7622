package org.supplyhub.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Location;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.util.idgenerator.IDGenerator;
import org.junit.jupiter.api.Test;
import org.supplyhub.support.TestInterfaces;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TimeZone;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Hl7Support#ack} writes ACKs with {@link AckBuilder}; they must be byte for byte what HAPI's
 * {@code generateACK} + {@code PipeParser.encode} path ({@link Hl7Support#hapiAck}) writes. Both paths
 * take MSH-10 from the same pinned id generator; HAPI reads the system clock itself, so the builder's
 * clock is pinned to the instant HAPI's MSH-7 names (the format is then compared whole, and checked
 * against HAPI's {@code CommonTS} separately in {@link Hl7TimestampTest}).
 */
class AckBuilderTest {

    /** Sender versions (MSH-12) and the model versions profiles parse into. */
    static final List<String> SENT_VERSIONS = List.of("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8");
    static final List<String> MODELS = List.of("2.3", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.8");
    static final List<Integer> CODES = List.of(100, 101, 102, 103, 200, 204, 207);

    static final List<AcknowledgmentCode> CODES_AA_AE_AR = List.of(AcknowledgmentCode.AA, AcknowledgmentCode.AE, AcknowledgmentCode.AR);

    private final PinnedIds ids = new PinnedIds();
    private final PinnedClock clock = new PinnedClock();
    private final Hl7Support hl7 = new Hl7Support(Hl7Limits.DEFAULTS, ids, clock);
    private int compared;
    private int fallbacks;
    private int turn;

    // ---------------------------------------------------------------- the samples, every version, code and error

    @Test
    void everySampleInEveryVersionWithEveryCodeAndError() throws HL7Exception {
        List<String> samples = samples();
        assertThat(samples).hasSizeGreaterThanOrEqualTo(5);
        for (String sample : samples) {
            for (String sent : SENT_VERSIONS) {
                String er7 = withMshField(sample, 12, sent);
                for (String model : MODELS) {
                    Message inbound = hl7.parse(er7, model);
                    // each error once, the code turning AA → AE → AR (each code meets each error over the versions)
                    List<Supplier<HL7Exception>> errors = errors();
                    int group = turn++;
                    for (int i = 0; i < errors.size(); i++) {
                        assertSame(inbound, CODES_AA_AE_AR.get((i + group) % 3), errors.get(i), charsetField(inbound));
                    }
                }
            }
        }
        assertThat(compared).isEqualTo(samples.size() * 9 * 7 * 15);
        assertNoFallback();
    }

    /** With every error code, with and without a location, and a text that needs escaping. */
    private static List<Supplier<HL7Exception>> errors() {
        List<Supplier<HL7Exception>> errors = new ArrayList<>();
        errors.add(() -> null);
        for (int code : CODES) {
            ErrorCode errorCode = ErrorCode.errorCodeFor(code);
            errors.add(() -> new HL7Exception("the value is wrong", errorCode));
            errors.add(() -> located(new HL7Exception("FT1-7 names no item: 27\\0009 & co ~ ^x | \u00e9t\u00e9", errorCode),
                    new Location().withSegmentName("FT1").withSegmentRepetition(2).withField(7).withComponent(1)));
        }
        return errors;
    }

    // ---------------------------------------------------------------- MSH variations

    @Test
    void charsetFieldPresentAbsentAndOdd() throws HL7Exception {
        for (String model : MODELS) {
            for (String msh18 : new String[]{null, "", "UNICODE UTF-8", "8859/1", "ISO IR87", "A^B&C~D\\E|F", "\u00c4\u00d6", "\u0001x", "x\u0000"}) {
                String er7 = withMshField(sample(), 18, msh18 == null ? "" : escape(msh18));
                Message inbound = hl7.parse(er7, model);
                assertSame(inbound, AcknowledgmentCode.AA, () -> null, msh18);
                assertSame(inbound, AcknowledgmentCode.AA, () -> null, charsetField(inbound));
                assertSame(inbound, AcknowledgmentCode.AE, () -> new HL7Exception("bad", ErrorCode.DATA_TYPE_ERROR), msh18);
            }
        }
        assertNoFallback();
    }

    @Test
    void echoedFieldsNeedingEscapes() throws HL7Exception {
        String[] values = {
                "OR\\F\\MGR", "A\\S\\B", "A\\T\\B", "A\\R\\B", "A\\E\\B", "\\E\\", "A\\X0D\\B", "\\X1C\\", "\\.br\\",
                "A\\H\\B\\N\\C", "\\Zfoo\\", "\\Cxxyy\\", "\\Mxxyyzz\\", "\\X41", "\\", "M\u00dcNCHEN_OR", "\u65e5\u672c",
                "\ud83d\ude00", "  padded  ", "A\\.sp 2\\B", "\\H", "\\N\\", "\\E\\.br\\E\\"};
        for (String model : MODELS) {
            for (String value : values) {
                for (int field : new int[]{3, 4, 5, 6, 10, 11}) {
                    String er7 = withMshField(sample(), field, value);
                    Message inbound = hl7.parse(er7, model);
                    assertSame(inbound, AcknowledgmentCode.AA, () -> null, charsetField(inbound));
                    assertSame(inbound, AcknowledgmentCode.AR, () -> new HL7Exception(value, ErrorCode.UNKNOWN_KEY_IDENTIFIER), null);
                }
                Message trigger = hl7.parse(withMshField(sample(), 9, "DFT^" + value + "^DFT_P03"), model);
                assertSame(trigger, AcknowledgmentCode.AA, () -> null, null);
            }
        }
        assertNoFallback();
    }

    @Test
    void nonStandardInboundDelimiters() throws HL7Exception {
        String[][] sets = {{"*", "^", "~", "\\", "&"}, {"|", "!", "@", "$", "%"}, {"#", "^", "~", "\\", "&"},
                {"|", "^", "~", "\\", "&", "#"}, {"*", "!", "@", "$", "%", "'"}};
        for (String[] set : sets) {
            for (String model : MODELS) {
                if (set.length == 6 && (model.startsWith("2.3") || model.startsWith("2.4") || model.startsWith("2.5") || model.equals("2.6"))) {
                    continue; // a truncation character is 2.7+ (HAPI refuses five encoding characters before)
                }
                for (String sample : samples()) {
                    String er7 = redelimit(sample, set);
                    Message inbound = hl7.parse(er7, model);
                    assertSame(inbound, AcknowledgmentCode.AA, () -> null, charsetField(inbound));
                    assertSame(inbound, AcknowledgmentCode.AE, () -> located(new HL7Exception("x ^ & | ~ \\ ! @ $ % * # '",
                            ErrorCode.TABLE_VALUE_NOT_FOUND), new Location().withSegmentName("PID").withField(3)), null);
                }
            }
        }
        assertNoFallback();
    }

    @Test
    void missingOptionalFieldsAndComponents() throws HL7Exception {
        for (String model : MODELS) {
            for (int field : new int[]{3, 4, 5, 6, 7, 11, 18}) {
                Message inbound = hl7.parse(withMshField(sample(), field, ""), model);
                assertSame(inbound, AcknowledgmentCode.AA, () -> null, charsetField(inbound));
            }
            Message noTrigger = hl7.parse(withMshField(sample(), 9, "DFT^^DFT_P03"), model);
            assertSame(noTrigger, AcknowledgmentCode.AA, () -> null, null);
            Message structured = hl7.parse(withMshField(withMshField(sample(), 3, "OR^1.2.3^ISO"), 4, "&sub&x"), model);
            assertSame(structured, AcknowledgmentCode.AE, () -> new HL7Exception("x", ErrorCode.DATA_TYPE_ERROR), null);
            Message repeated = hl7.parse(withMshField(sample(), 5, "HUB~OTHER"), model);
            assertSame(repeated, AcknowledgmentCode.AA, () -> null, null);
            String shortMsh = sample().replaceFirst("\\|\\|\\|AL\\|NE\\|\\|UNICODE UTF-8", "");
            Message truncated = hl7.parse(shortMsh, model);
            assertSame(truncated, AcknowledgmentCode.AA, () -> null, charsetField(truncated));
        }
        assertNoFallback();
    }

    @Test
    void everyShapeOfLocation() throws HL7Exception {
        List<Supplier<Location>> locations = List.of(
                () -> null, Location::new, () -> Location.UNKNOWN,
                () -> new Location().withSegmentName("MSH"),
                () -> new Location().withSegmentName("MSH").withSegmentRepetition(1).withField(10),
                () -> new Location().withField(3),
                () -> new Location().withSegmentName("FT1").withSegmentRepetition(3).withField(7).withFieldRepetition(2)
                        .withComponent(1).withSubcomponent(2),
                () -> new Location().withSegmentName("ZIM").withComponent(4),
                () -> new Location().pushGroup("FINANCIAL", 2).withSegmentName("FT1").withField(6),
                () -> new Location().withSegmentName("A|B").withField(1));
        for (String model : MODELS) {
            Message inbound = hl7.parse(sample(), model);
            for (Supplier<Location> location : locations) {
                for (int code : CODES) {
                    assertSame(inbound, AcknowledgmentCode.AE, () -> located(new HL7Exception("text",
                            ErrorCode.errorCodeFor(code)), location.get()), null);
                }
                assertSame(inbound, AcknowledgmentCode.AE, () -> located(new HL7Exception("two\nlines\u0000and\u001c",
                        ErrorCode.DATA_TYPE_ERROR), location.get()), null);
                assertSame(inbound, AcknowledgmentCode.AE, () -> located(new HL7Exception((String) null,
                        ErrorCode.DATA_TYPE_ERROR), location.get()), null);
            }
        }
        assertNoFallback();
    }

    /** The model HAPI picks from MSH-12 (no profile version): known versions take the direct path too. */
    @Test
    void messagesParsedByTheirOwnVersion() throws HL7Exception {
        for (String sent : SENT_VERSIONS) {
            Message inbound;
            try {
                inbound = hl7.parse(withMshField(sample(), 12, sent));
            } catch (HL7Exception e) {
                continue; // no model for that version on the class path
            }
            assertSame(inbound, AcknowledgmentCode.AA, () -> null, null);
            assertSame(inbound, AcknowledgmentCode.AE, () -> new HL7Exception("x", ErrorCode.DATA_TYPE_ERROR), null);
            assertThat(hl7.direct(inbound, AcknowledgmentCode.AA, null).fallback()).as(sent)
                    .isEqualTo(MODELS.contains(sent) ? null : Hl7Support.AckFallback.UNKNOWN_ACK_MODEL);
        }
        assertThat(compared).isGreaterThanOrEqualTo(14);
        System.out.printf("own version: %d compared, %d by HAPI (no standard ACK class for 2.3.1, 2.7.1)%n", compared, fallbacks);
    }

    /** The checks send what the builder does not reproduce to HAPI, and say why. */
    @Test
    void fallbacksAreExplicitAndCounted() throws HL7Exception {
        Message inbound = hl7.parse(sample(), "2.5.1");
        HL7Exception answered = new HL7Exception("x", ErrorCode.DATA_TYPE_ERROR);
        answered.setResponseMessage(hl7.parse(sample(), "2.5.1"));
        assertThat(hl7.direct(inbound, AcknowledgmentCode.AE, answered).fallback()).isEqualTo(Hl7Support.AckFallback.ERROR_HAS_RESPONSE);
        HL7Exception uncoded = new HL7Exception("x", ErrorCode.DATA_TYPE_ERROR);
        uncoded.setError(null);
        assertThat(hl7.direct(inbound, AcknowledgmentCode.AE, uncoded).fallback()).isEqualTo(Hl7Support.AckFallback.UNUSUAL_ERROR);
        HL7Exception custom = new HL7Exception("x", ErrorCode.DATA_TYPE_ERROR) {
            @Override
            public ErrorCode getError() {
                return ErrorCode.APPLICATION_INTERNAL_ERROR;
            }
        };
        assertThat(hl7.direct(inbound, AcknowledgmentCode.AE, custom).fallback()).isEqualTo(Hl7Support.AckFallback.UNUSUAL_ERROR);
        assertThat(hl7.direct(inbound, null, null).fallback()).isEqualTo(Hl7Support.AckFallback.NO_CODE);
        Message foreign = new ca.uhn.hl7v2.parser.PipeParser().parse(sample());
        assertThat(hl7.direct(foreign, AcknowledgmentCode.AA, null).fallback()).isEqualTo(Hl7Support.AckFallback.FOREIGN_PARSER);
        assertThat(hl7.direct(inbound, AcknowledgmentCode.AA, null).fallback()).isNull();

        // a reused error HAPI already answered: HAPI's path answers it again, as before
        HL7Exception reused = new HL7Exception("x", ErrorCode.DATA_TYPE_ERROR);
        ids.next = "ONE";
        String first = hl7.ack(inbound, AcknowledgmentCode.AE, reused, null);
        assertThat(reused.getResponseMessage()).isNull();
        assertThat(first).contains("|ONE|").contains("\rERR||");
        long before = hl7.ackFallbacks().get(Hl7Support.AckFallback.ERROR_HAS_RESPONSE);
        assertThat(hl7.ack(inbound, AcknowledgmentCode.AE, answered, null)).startsWith("MSH|^~\\&|");
        assertThat(hl7.ackFallbacks().get(Hl7Support.AckFallback.ERROR_HAS_RESPONSE)).isEqualTo(before + 1);
    }

    /** Where Calendar.getInstance() is Buddhist, HAPI's NACK stamps a Buddhist year: HAPI writes it. */
    @Test
    void aNonGregorianLocaleLeavesTheNackToHapi() {
        java.util.Locale original = java.util.Locale.getDefault(java.util.Locale.Category.FORMAT);
        try {
            java.util.Locale.setDefault(java.util.Locale.Category.FORMAT, java.util.Locale.forLanguageTag("th-TH-u-ca-buddhist"));
            long before = hl7.ackFallbacks().get(Hl7Support.AckFallback.NON_GREGORIAN_LOCALE);
            String nack = hl7.nack(Hl7Header.read(sample()), AcknowledgmentCode.AR, new HL7Exception("x", ErrorCode.DATA_TYPE_ERROR));
            assertThat(hl7.ackFallbacks().get(Hl7Support.AckFallback.NON_GREGORIAN_LOCALE)).isEqualTo(before + 1);
            assertThat(mshField(nack, 7)).startsWith("25"); // the Buddhist year, as before
        } finally {
            java.util.Locale.setDefault(java.util.Locale.Category.FORMAT, original);
        }
    }

    // ---------------------------------------------------------------- randomized MSH contents

    @Test
    void fuzzedMshFields() {
        Random random = new Random(20261129L);
        int cases = 0;
        int unparsed = 0;
        while (cases < 3_000) {
            String[] msh = sample().split("\r", 2)[0].split("\\|", -1);
            for (int field : new int[]{3, 4, 5, 6}) {
                msh[field - 1] = randomHd(random);
            }
            msh[8] = "DFT^" + randomValue(random, 6) + (random.nextBoolean() ? "^DFT_P03" : "");
            msh[9] = random.nextInt(10) == 0 ? randomValue(random, 40) : "C" + random.nextInt(1_000_000) + randomValue(random, 3);
            msh[10] = random.nextInt(4) == 0 ? randomValue(random, 3) : random.nextBoolean() ? "P" : "T^A";
            msh[11] = random.nextInt(6) == 0 ? randomValue(random, 6) : SENT_VERSIONS.get(random.nextInt(SENT_VERSIONS.size()));
            String[] fields = new String[Math.max(msh.length, 18)];
            java.util.Arrays.fill(fields, "");
            System.arraycopy(msh, 0, fields, 0, msh.length);
            fields[17] = random.nextInt(3) == 0 ? "" : random.nextBoolean() ? "UNICODE UTF-8" : randomValue(random, 8);
            String header = String.join("|", java.util.Arrays.copyOf(fields, random.nextBoolean() ? 18 : 12 + random.nextInt(7)));
            String er7 = header + "\r" + FUZZ_BODY;
            String model = MODELS.get(random.nextInt(MODELS.size()));
            Message inbound;
            try {
                inbound = hl7.parse(er7, model);
            } catch (HL7Exception e) {
                unparsed++; // e.g. a blank MSH-12: answered by nack, not ack
                continue;
            }
            AcknowledgmentCode code = AcknowledgmentCode.values()[random.nextInt(3)];
            int kind = random.nextInt(3);
            long seed = random.nextLong();
            Supplier<HL7Exception> error = kind == 0 ? () -> null : () -> randomError(new Random(seed));
            String charsetField = random.nextBoolean() ? charsetField(inbound) : random.nextBoolean() ? null : randomValue(random, 5);
            assertSame(inbound, code, error, charsetField);
            cases++;
        }
        System.out.printf("fuzz: %d cases compared, %d random headers HAPI could not parse%n", cases, unparsed);
        assertNoFallback();
    }

    /** The rest of the message for fuzzed headers: short, so the cases go to the header. */
    private static final String FUZZ_BODY = "EVN|P03|20261114093512\rPID|1||MRN1^^^MERCY^MR||DOE^JO\r"
            + "FT1|1|TX-1||20261114091000|20261114093512|CG|270004512^SUTURE^MERCYCDM|||2";

    private static final String[] PIECES = {"A", "b", "7", " ", ".", "-", "\\F\\", "\\S\\", "\\T\\", "\\R\\", "\\E\\",
            "\\X0A\\", "\\X41\\", "\\.br\\", "\\H\\", "\\N\\", "\\Zz\\", "\\C2842\\", "\\M24\\", "\\", "\\X", "\\.", "\\H",
            "\u00e9", "\u00df", "\u65e5", "\ud83d\ude00", "\u0001", "\u001c", "\u007f", "\u0000", "#", "'", "\"\"", "&", "^", "~"};

    private static String randomValue(Random random, int maxPieces) {
        StringBuilder out = new StringBuilder();
        int n = random.nextInt(maxPieces + 1);
        for (int i = 0; i < n; i++) {
            String piece = PIECES[random.nextInt(PIECES.length)];
            // '&' and '^' as raw delimiters are structure, as the sender wrote it
            out.append(piece);
        }
        return out.toString();
    }

    private static String randomHd(Random random) {
        String first = randomValue(random, 5);
        return switch (random.nextInt(4)) {
            case 0 -> first + "^" + randomValue(random, 2) + "^ISO";
            case 1 -> "";
            default -> first;
        };
    }

    private static HL7Exception randomError(Random random) {
        ErrorCode code = ErrorCode.values()[random.nextInt(ErrorCode.values().length)];
        HL7Exception e = new HL7Exception(random.nextInt(8) == 0 ? null : randomValue(random, 8), code);
        if (random.nextBoolean()) {
            Location location = new Location();
            if (random.nextInt(4) > 0) {
                location.withSegmentName(random.nextBoolean() ? "FT1" : randomValue(random, 2));
            }
            if (random.nextBoolean()) {
                location.withSegmentRepetition(random.nextInt(4));
            }
            if (random.nextBoolean()) {
                location.withField(random.nextInt(30) - 1);
            }
            if (random.nextBoolean()) {
                location.withFieldRepetition(random.nextInt(3));
            }
            if (random.nextBoolean()) {
                location.withComponent(random.nextInt(5) - 1);
            }
            if (random.nextBoolean()) {
                location.withSubcomponent(random.nextInt(4) - 1);
            }
            e.setLocation(location);
        }
        return e;
    }

    // ---------------------------------------------------------------- NACKs from a header read by hand

    @Test
    void nacksForHeadersReadByHand() {
        List<Hl7Header> headers = new ArrayList<>();
        headers.add(null);
        for (String sample : samples()) {
            for (String sent : List.of("2.3", "2.3.1", "2.5.1", "2.7.1", "2.8", "2.9", "", "X^Y")) {
                headers.add(Hl7Header.read(withMshField(sample, 12, sent)));
            }
        }
        for (String value : new String[]{"", "  padded", "A&B", "A\\F\\B", "\u00e9\u65e5", "x\u0001y", "\\", "~rep"}) {
            for (int field : new int[]{3, 4, 5, 6, 9, 10, 11}) {
                headers.add(Hl7Header.read(withMshField(sample(), field, field == 9 ? "DFT^" + value : value)));
            }
        }
        Random random = new Random(42);
        for (int i = 0; i < 1_000; i++) {
            String msh = "MSH|^~\\&|" + randomHd(random) + "|" + randomHd(random) + "|" + randomHd(random) + "|"
                    + randomHd(random) + "|20261114||DFT^" + randomValue(random, 3) + "|" + randomValue(random, 6) + "|"
                    + randomValue(random, 2) + "|" + (random.nextBoolean() ? SENT_VERSIONS.get(random.nextInt(9)) : randomValue(random, 3));
            headers.add(Hl7Header.read(msh + "\r"));
        }
        int n = 0;
        for (Hl7Header header : headers) {
            List<Supplier<HL7Exception>> errors = errors();
            for (int i = 0; i < errors.size(); i += header == null ? 1 : 5) {
                assertSameNack(header, CODES_AA_AE_AR.get((i + n) % 3), errors.get(i));
                n++;
            }
        }
        assertThat(n).isGreaterThan(2_000);
        assertNoFallback();
    }

    private void assertSameNack(Hl7Header header, AcknowledgmentCode code, Supplier<HL7Exception> error) {
        String id = "N" + compared;
        ids.next = id;
        String expected = hl7.hapiNack(header, code, error.get());
        clock.at(instantOf(mshField(expected, 7)));
        ids.next = id;
        assertThat(hl7.nack(header, code, error.get())).as("NACK for %s", header).isEqualTo(expected);
        compared++;
    }

    @Test
    void charsetFieldReadsAsTheTerser() throws HL7Exception {
        for (String model : MODELS) {
            for (String msh18 : new String[]{"", "UNICODE UTF-8", "8859/1^x~ISO IR87", "~ISO IR87", " a"}) {
                Message inbound = hl7.parse(withMshField(sample(), 18, msh18), model);
                assertThat(Hl7Support.charsetField(inbound)).isEqualTo(charsetField(inbound));
            }
            Message shortMsh = hl7.parse(sample().replaceFirst("\\|\\|\\|AL\\|NE\\|\\|UNICODE UTF-8", ""), model);
            assertThat(Hl7Support.charsetField(shortMsh)).isEqualTo(charsetField(shortMsh)).isNull();
        }
    }

    // ---------------------------------------------------------------- other time zones

    @Test
    void inOtherTimeZones() throws HL7Exception {
        TimeZone original = TimeZone.getDefault();
        try {
            for (String zone : new String[]{"America/St_Johns", "Asia/Kathmandu", "Pacific/Chatham", "America/Los_Angeles", "Etc/GMT+12"}) {
                TimeZone.setDefault(TimeZone.getTimeZone(zone));
                for (String model : MODELS) {
                    Message inbound = hl7.parse(sample(), model);
                    assertSame(inbound, AcknowledgmentCode.AA, () -> null, charsetField(inbound));
                }
            }
        } finally {
            TimeZone.setDefault(original);
        }
        assertNoFallback();
    }

    // ---------------------------------------------------------------- the comparison

    /**
     * HAPI's ACK, then the builder's with the same control id and the instant HAPI stamped; equal
     * byte for byte. The error is made twice: HAPI's path stores its ACK in the exception.
     */
    private void assertSame(Message inbound, AcknowledgmentCode code, Supplier<HL7Exception> error, String charsetField) {
        String id = "ACK" + (compared % 7 == 0 ? "&" + compared : compared);
        ids.next = id;
        HL7Exception hapiError = error.get();
        String expected = hl7.hapiAck(inbound, code, Hl7Support.clean(hapiError), hapiError, charsetField);
        clock.at(instantOf(mshField(expected, 7)));
        ids.next = id;
        HL7Exception directError = error.get();
        Hl7Support.AckFallback fallback = hl7.direct(inbound, code, Hl7Support.clean(directError)).fallback();
        String actual = hl7.ack(inbound, code, directError, charsetField);
        if (fallback != null) {
            // HAPI wrote both, each reading the system clock: all but MSH-7 is the same
            actual = actual.replace(mshField(actual, 7), mshField(expected, 7));
            fallbacks++;
        }
        assertThat(actual).as("ACK of %s (model %s, %s)", mshLine(inbound), inbound.getVersion(), code).isEqualTo(expected);
        compared++;
    }

    private void assertNoFallback() {
        assertThat(hl7.ackFallbacks()).allSatisfy((reason, count) -> assertThat(count).as(reason.name()).isZero());
    }

    private static String mshLine(Message inbound) {
        try {
            return inbound.encode().split("\r")[0];
        } catch (HL7Exception e) {
            return "?";
        }
    }

    private static final Pattern TS = Pattern.compile("(\\d{14})(?:\\.(\\d{1,4}))?([+-]\\d{4})");

    /** The instant an HL7 TS names (as HAPI writes MSH-7: seconds, up to 4 fraction digits, offset). */
    static Instant instantOf(String ts) {
        Matcher m = TS.matcher(ts);
        assertThat(m.matches()).as("HAPI's MSH-7 %s", ts).isTrue();
        LocalDateTime local = LocalDateTime.parse(m.group(1), java.time.format.DateTimeFormatter.ofPattern("yyyyMMddHHmmss"));
        int nanos = m.group(2) == null ? 0 : Integer.parseInt((m.group(2) + "000000000").substring(0, 9));
        ZoneOffset offset = ZoneOffset.of(m.group(3).substring(0, 3) + ":" + m.group(3).substring(3));
        return local.withNano(nanos).toInstant(offset);
    }

    private static String mshField(String er7, int field) {
        return er7.split("\r")[0].split("\\|", -1)[field - 1];
    }

    private static String charsetField(Message message) {
        try {
            return new ca.uhn.hl7v2.util.Terser(message).get("/MSH-18");
        } catch (HL7Exception e) {
            return null;
        }
    }

    private static HL7Exception located(HL7Exception e, Location location) {
        e.setLocation(location);
        return e;
    }

    /** An HL7 text value with the standard delimiters as escape sequences. */
    private static String escape(String value) {
        return ca.uhn.hl7v2.parser.Escape.escape(value, AckBuilder.STANDARD);
    }

    /** MSH-n (n ≥ 3) replaced, the header extended with empty fields if it is shorter. */
    static String withMshField(String message, int field, String value) {
        String[] segments = message.split("\r", 2);
        List<String> msh = new ArrayList<>(List.of(segments[0].split("\\|", -1)));
        while (msh.size() < field) {
            msh.add("");
        }
        msh.set(field - 1, value);
        return String.join("|", msh) + "\r" + segments[1];
    }

    /** The message written with other delimiters (the samples contain none of the new ones as data). */
    private static String redelimit(String message, String[] set) {
        String encoding = set[1] + set[2] + set[3] + set[4] + (set.length > 5 ? set[5] : "");
        StringBuilder out = new StringBuilder();
        String body = message.substring("MSH|^~\\&".length());
        for (char c : body.toCharArray()) {
            out.append(switch (c) {
                case '|' -> set[0];
                case '^' -> set[1];
                case '~' -> set[2];
                case '\\' -> set[3];
                case '&' -> set[4];
                default -> String.valueOf(c);
            });
        }
        return "MSH" + set[0] + encoding + out;
    }

    private static String sample() {
        return read(TestInterfaces.samples().resolve("dft-p03-v251-zim.hl7"));
    }

    /** The shared samples and the HL7 test resources. */
    static List<String> samples() {
        List<String> out = new ArrayList<>();
        for (Path dir : List.of(TestInterfaces.samples(), TestInterfaces.projectRoot().resolve("hub/src/test/resources/samples"),
                TestInterfaces.projectRoot().resolve("hub/src/test/resources/journal-v1"))) {
            try (Stream<Path> files = Files.list(dir)) {
                files.filter(p -> p.toString().endsWith(".hl7")).sorted().forEach(p -> out.add(read(p)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8).replace("\r\n", "\r").replace('\n', '\r');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Hands out the control id the test sets, to HAPI's path and the builder alike. */
    static final class PinnedIds implements IDGenerator {
        String next = "ACK1";

        @Override
        public String getID() {
            return next;
        }
    }

    /** The builder's clock, set to the instant HAPI stamped; in the JVM's default zone, as HAPI's. */
    static final class PinnedClock extends Clock {
        private Instant instant = Instant.EPOCH;

        void at(Instant instant) {
            this.instant = instant;
        }

        @Override
        public ZoneId getZone() {
            return ZoneId.systemDefault();
        }

        @Override
        public Clock withZone(ZoneId zone) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Instant instant() {
            return instant;
        }
    }
}
