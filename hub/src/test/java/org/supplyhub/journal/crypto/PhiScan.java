package org.supplyhub.journal.crypto;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The patient data of the sample messages, and a scan for it in stored text or bytes: in clear (any
 * case), as UTF-16, in hex, and inside any base64 or hex run (decoded), so a value merely encoded
 * rather than encrypted is found too.
 */
final class PhiScan {

    /** MRNs, names, birth dates (HL7 and FHIR forms), accounts, street, implant serials of the samples. */
    static final List<String> SAMPLE_PHI = List.of("MRN448812", "E2291004", "VALDEZ", "NAKAMURA", "19580302", "1958-03-02",
            "19710911", "1971-09-11", "ACCT90017733", "FIN77120045", "12 ELM ST", "400 LAKE RD", "SN00042519", "21A11F4855");

    private static final Pattern BASE64 = Pattern.compile("[A-Za-z0-9+/_-]{16,}={0,2}");
    private static final Pattern HEX = Pattern.compile("(?:[0-9a-fA-F]{2}){8,}");

    private PhiScan() {
    }

    /** The sample values found in this text, each named with where it was found. */
    static List<String> findIn(String where, String text) {
        List<String> found = new ArrayList<>();
        if (text == null) {
            return found;
        }
        List<String> views = new ArrayList<>(List.of(text));
        Matcher b = BASE64.matcher(text);
        while (b.find()) {
            decode64(b.group()).ifPresent(views::add);
        }
        Matcher h = HEX.matcher(text);
        while (h.find()) {
            views.add(new String(HexFormat.of().parseHex(h.group().toLowerCase(Locale.ROOT)), StandardCharsets.ISO_8859_1));
        }
        for (String view : views) {
            String upper = view.toUpperCase(Locale.ROOT);
            for (String phi : SAMPLE_PHI) {
                if (upper.contains(phi) || text.contains(HexFormat.of().formatHex(phi.getBytes(StandardCharsets.US_ASCII)))
                        || text.toLowerCase(Locale.ROOT).contains(HexFormat.of().formatHex(phi.getBytes(StandardCharsets.US_ASCII)))) {
                    found.add(phi + " in " + where);
                }
            }
        }
        return found;
    }

    static List<String> findIn(String where, byte[] bytes) {
        List<String> found = new ArrayList<>(findIn(where, new String(bytes, StandardCharsets.ISO_8859_1)));
        // UTF-16 views: the values themselves only (a database file is megabytes; decoding every run is for the text view)
        for (java.nio.charset.Charset utf16 : List.of(StandardCharsets.UTF_16LE, StandardCharsets.UTF_16BE)) {
            for (int shift = 0; shift < 2 && shift < bytes.length; shift++) {
                String view = new String(bytes, shift, bytes.length - shift, utf16).toUpperCase(Locale.ROOT);
                for (String phi : SAMPLE_PHI) {
                    if (view.contains(phi)) {
                        found.add(phi + " in " + where + " (UTF-16)");
                    }
                }
            }
        }
        return found;
    }

    private static java.util.Optional<String> decode64(String run) {
        for (Base64.Decoder d : List.of(Base64.getDecoder(), Base64.getUrlDecoder())) {
            for (int cut = 0; cut < 4 && cut < run.length(); cut++) {
                String s = run.substring(cut);
                s = s.substring(0, s.length() - s.length() % 4);
                try {
                    return java.util.Optional.of(new String(d.decode(s), StandardCharsets.ISO_8859_1));
                } catch (IllegalArgumentException ignored) {
                    // not base64 at this offset
                }
            }
        }
        return java.util.Optional.empty();
    }
}
