package org.supplyhub.hl7;

import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Location;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Bounds on the shape of an ER7 message, checked in one linear pass over the text before HAPI
 * builds its object tree. HAPI allocates a full composite for every repetition and component it
 * sees, so a 300 KB field of {@code ~^&} costs gigabytes of heap; these checks cost one scan.
 * The defaults are far above what real DFTs carry (500 FT1 lines with a ZIM or PRT each pass).
 *
 * @param maxSegments    segments in one message
 * @param maxRepetitions repetitions of one field
 * @param maxComponents  components and subcomponents of one field, over all its repetitions
 * @param maxFieldLength characters of one field (all repetitions), e.g. a quantity of a million digits
 * @param maxFields      fields and repetitions in the whole message (HAPI's object count follows it)
 */
@ConfigurationProperties("hub.hl7")
public record Hl7Limits(Integer maxSegments, Integer maxRepetitions, Integer maxComponents, Integer maxFieldLength,
                        Integer maxFields) {

    public static final Hl7Limits DEFAULTS = new Hl7Limits(null, null, null, null, null);

    public Hl7Limits {
        maxSegments = positive(maxSegments, 5_000, "max-segments");
        maxRepetitions = positive(maxRepetitions, 100, "max-repetitions");
        maxComponents = positive(maxComponents, 500, "max-components");
        maxFieldLength = positive(maxFieldLength, 65_536, "max-field-length");
        maxFields = positive(maxFields, 100_000, "max-fields");
    }

    /**
     * The first way the message breaks the limits or has an unusable MSH-1/MSH-2, as an error naming
     * the segment and field; null if it is within bounds (or does not start with MSH at all: that is
     * answered by the caller, which knows it is not HL7). Segments end with CR (normalised before).
     */
    public HL7Exception check(String text) {
        int n = text.length();
        int start = 0;
        while (start < n && Character.isWhitespace(text.charAt(start))) {
            start++;
        }
        if (!text.startsWith("MSH", start)) {
            return null;
        }
        HL7Exception msh = checkMsh(text, start);
        if (msh != null) {
            return msh;
        }
        char fieldSep = text.charAt(start + 3);
        char componentSep = text.charAt(start + 4);
        char repetitionSep = text.charAt(start + 5);
        char subcomponentSep = text.charAt(start + 7);

        int segments = 1;
        int segmentStart = start;
        int field = 2;                  // MSH-2 ends where the scan begins
        int fieldLength = 0;
        int repetitions = 1;
        int pieces = 1;
        long fields = 2;
        int i = start + 4 + encodingLength(text, start);
        for (; i < n; i++) {
            char c = text.charAt(i);
            if (c == '\r' || c == '\n') {
                // the segment ends: skip empty ones (CR CR, CR LF), start the next
                while (i + 1 < n && (text.charAt(i + 1) == '\r' || text.charAt(i + 1) == '\n')) {
                    i++;
                }
                if (i + 1 < n && ++segments > maxSegments) {
                    return error(ErrorCode.SEGMENT_SEQUENCE_ERROR, text, i + 1, -1,
                            "the message has more than " + maxSegments + " segments (hub.hl7.max-segments)");
                }
                segmentStart = i + 1;
                field = 0;
                fieldLength = 0;
                repetitions = 1;
                pieces = 1;
                fields++;
            } else if (c == fieldSep) {
                field++;
                fieldLength = 0;
                repetitions = 1;
                pieces = 1;
                if (++fields > maxFields) {
                    return error(ErrorCode.DATA_TYPE_ERROR, text, segmentStart, field,
                            "the message has more than " + maxFields + " fields and repetitions (hub.hl7.max-fields)");
                }
            } else {
                if (++fieldLength > maxFieldLength) {
                    return error(ErrorCode.DATA_TYPE_ERROR, text, segmentStart, field,
                            "field longer than " + maxFieldLength + " characters (hub.hl7.max-field-length)");
                }
                if (c == repetitionSep) {
                    if (++repetitions > maxRepetitions) {
                        return error(ErrorCode.DATA_TYPE_ERROR, text, segmentStart, field,
                                "field repeats more than " + maxRepetitions + " times (hub.hl7.max-repetitions)");
                    }
                    if (++fields > maxFields) {
                        return error(ErrorCode.DATA_TYPE_ERROR, text, segmentStart, field,
                                "the message has more than " + maxFields + " fields and repetitions (hub.hl7.max-fields)");
                    }
                    pieces++;
                } else if (c == componentSep || c == subcomponentSep) {
                    pieces++;
                }
                if (pieces > maxComponents) {
                    return error(ErrorCode.DATA_TYPE_ERROR, text, segmentStart, field,
                            "field has more than " + maxComponents + " components (hub.hl7.max-components)");
                }
            }
        }
        return null;
    }

    /**
     * MSH-1 must be one printable character and MSH-2 four or five (2.7+ adds the truncation
     * character) distinct printable ones, none of them the field separator.
     */
    static HL7Exception checkMsh(String text, int start) {
        int n = text.length();
        if (start + 3 >= n || !printable(text.charAt(start + 3))) {
            return mshError(1, "MSH-1 (field separator) is missing or not a printable character");
        }
        char fieldSep = text.charAt(start + 3);
        int length = encodingLength(text, start);
        if (length < 4 || length > 5) {
            return mshError(2, "MSH-2 (encoding characters) must be 4 or 5 characters");
        }
        for (int i = start + 4; i < start + 4 + length; i++) {
            char c = text.charAt(i);
            boolean repeated = false;
            for (int j = i + 1; j < start + 4 + length; j++) {
                repeated |= text.charAt(j) == c;
            }
            if (!printable(c) || c == fieldSep || repeated) {
                return mshError(2, "MSH-2 (encoding characters) must be distinct printable characters other than MSH-1");
            }
        }
        return null;
    }

    /** Characters of MSH-2: up to the next field separator or the end of the segment. */
    static int encodingLength(String text, int start) {
        char fieldSep = text.charAt(start + 3);
        int i = start + 4;
        while (i < text.length() && text.charAt(i) != fieldSep && text.charAt(i) != '\r' && text.charAt(i) != '\n') {
            i++;
        }
        return i - (start + 4);
    }

    private static boolean printable(char c) {
        return c > 0x20 && c != 0x7f && !Character.isWhitespace(c) && !Character.isISOControl(c);
    }

    private static HL7Exception mshError(int field, String message) {
        HL7Exception e = new HL7Exception(message, ErrorCode.DATA_TYPE_ERROR);
        e.setLocation(new Location().withSegmentName("MSH").withSegmentRepetition(1).withField(field));
        return e;
    }

    /** The error, located at the segment starting at {@code segmentStart} (its name and repetition) and field. */
    private static HL7Exception error(ErrorCode code, String text, int segmentStart, int field, String message) {
        HL7Exception e = new HL7Exception(message, code);
        String name = segmentName(text, segmentStart);
        if (name != null) {
            Location location = new Location().withSegmentName(name).withSegmentRepetition(repetition(text, segmentStart, name));
            if (field > 0) {
                location = location.withField(field);
            }
            e.setLocation(location);
        }
        return e;
    }

    /** The segment's name if it is a well-formed one (three capitals or digits), else null. */
    private static String segmentName(String text, int at) {
        if (at + 3 > text.length()) {
            return null;
        }
        for (int i = at; i < at + 3; i++) {
            char c = text.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')) {
                return null;
            }
        }
        return text.substring(at, at + 3);
    }

    /** 1-based: how many segments of this name start at or before {@code at} (only run for an error). */
    private static int repetition(String text, int at, String name) {
        int count = 0;
        int segment = 0;
        while (segment >= 0 && segment <= at) {
            if (text.startsWith(name, segment)) {
                count++;
            }
            int end = segment;
            while (end < text.length() && text.charAt(end) != '\r' && text.charAt(end) != '\n') {
                end++;
            }
            segment = end < text.length() ? end + 1 : -1;
        }
        return Math.max(1, count);
    }

    private static int positive(Integer value, int fallback, String name) {
        if (value == null) {
            return fallback;
        }
        if (value < 1) {
            throw new IllegalArgumentException("hub.hl7." + name + " must be at least 1, not " + value);
        }
        return value;
    }
}
