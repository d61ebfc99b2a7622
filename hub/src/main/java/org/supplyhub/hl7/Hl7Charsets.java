package org.supplyhub.hl7;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * MSH-18 (HL7 table 0211) to Java charsets. HAPI has this table but keeps it package-private.
 * The Japanese sets are sent with ISO 2022 escapes (ASCII until an escape switches to JIS X 0208),
 * so they read as ISO-2022-JP(-2); Java's raw x-JIS0208 would turn every ASCII delimiter into
 * garbage. A charset that cannot carry the HL7 delimiters and ASCII letters unchanged is not used
 * (the ACK would be unreadable): the interface's charset is.
 */
public final class Hl7Charsets {

    private static final Map<String, String> TABLE_0211 = Map.ofEntries(
            Map.entry("ASCII", "US-ASCII"),
            Map.entry("8859/1", "ISO-8859-1"), Map.entry("8859/2", "ISO-8859-2"), Map.entry("8859/3", "ISO-8859-3"),
            Map.entry("8859/4", "ISO-8859-4"), Map.entry("8859/5", "ISO-8859-5"), Map.entry("8859/6", "ISO-8859-6"),
            Map.entry("8859/7", "ISO-8859-7"), Map.entry("8859/8", "ISO-8859-8"), Map.entry("8859/9", "ISO-8859-9"),
            Map.entry("8859/15", "ISO-8859-15"),
            Map.entry("ISO IR6", "US-ASCII"), Map.entry("ISO IR100", "ISO-8859-1"), Map.entry("ISO IR14", "JIS_X0201"),
            Map.entry("ISO IR87", "ISO-2022-JP"), Map.entry("ISO IR159", "ISO-2022-JP-2"),
            Map.entry("GB 18030-2000", "GB18030"), Map.entry("KS X 1001", "EUC-KR"), Map.entry("BIG-5", "Big5"),
            Map.entry("CNS 11643-1992", "x-EUC-TW"),
            Map.entry("UNICODE", "UTF-8"), Map.entry("UNICODE UTF-8", "UTF-8"),
            Map.entry("UNICODE UTF-16", "UTF-16"), Map.entry("UNICODE UTF-32", "UTF-32"));

    private Hl7Charsets() {
    }

    /**
     * The charset MSH-18 names, read from the raw bytes (MSH itself is ASCII in every charset
     * senders use over MLLP). Unknown or absent → the interface default.
     */
    public static Charset detect(byte[] raw, Charset fallback) {
        String msh18 = msh18(raw);
        if (msh18 == null) {
            return fallback;
        }
        String name = TABLE_0211.get(msh18.trim().toUpperCase());
        if (name == null) {
            return fallback;
        }
        // per message this looked the charset up and encoded and decoded the probe twice (issue 16);
        // the answer depends on the name alone, and names come from table 0211 only
        return USABLE.computeIfAbsent(name, Hl7Charsets::usable).orElse(fallback);
    }

    /** Per table 0211 charset name: the charset if this JVM has it and it carries HL7's delimiters. */
    private static final Map<String, Optional<Charset>> USABLE = new ConcurrentHashMap<>();

    private static Optional<Charset> usable(String name) {
        if (!Charset.isSupported(name)) {
            return Optional.empty();
        }
        Charset charset = Charset.forName(name);
        return carriesDelimiters(charset) ? Optional.of(charset) : Optional.empty();
    }

    private static final String PROBE = "MSH|^~\\&#ACK AA AE AR 0123456789 abcxyz ABCXYZ\r";

    /**
     * Whether HL7's delimiters and ASCII text are the same bytes in this charset as in ASCII and
     * survive a round trip. MSH-18 was just read as ASCII bytes, so a charset where they differ
     * (UTF-16, UTF-32) contradicts the frame itself, and an ACK in it would be unreadable.
     */
    public static boolean carriesDelimiters(Charset charset) {
        if (!charset.canEncode()) {
            return false;
        }
        byte[] bytes = PROBE.getBytes(charset);
        return java.util.Arrays.equals(bytes, PROBE.getBytes(StandardCharsets.US_ASCII))
                && PROBE.equals(new String(bytes, charset));
    }

    private static String msh18(byte[] raw) {
        int start = 0;
        while (start < raw.length && (raw[start] == '\r' || raw[start] == '\n' || raw[start] == ' ')) {
            start++;
        }
        if (raw.length - start < 8 || raw[start] != 'M' || raw[start + 1] != 'S' || raw[start + 2] != 'H') {
            return null;
        }
        byte separator = raw[start + 3];
        int field = 1;
        int fieldStart = -1;
        for (int i = start + 3; i < raw.length && raw[i] != '\r' && raw[i] != '\n'; i++) {
            if (raw[i] == separator) {
                if (fieldStart >= 0) {
                    break; // end of MSH-18
                }
                field++;
                if (field == 18) {
                    fieldStart = i + 1;
                }
            }
        }
        if (fieldStart < 0) {
            return null;
        }
        int end = fieldStart;
        while (end < raw.length && raw[end] != separator && raw[end] != '\r' && raw[end] != '\n') {
            end++;
        }
        // the first repetition names the message's charset; an empty one (ASCII) followed by a
        // Japanese set (JAHIS: "~ISO IR87") means ISO 2022 escapes into that set
        String value = new String(raw, fieldStart, end - fieldStart, StandardCharsets.ISO_8859_1);
        for (String rep : value.split("~")) {
            if (!rep.isBlank()) {
                return rep;
            }
        }
        return null;
    }
}
