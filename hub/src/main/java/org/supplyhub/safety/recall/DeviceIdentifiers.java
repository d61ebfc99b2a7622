package org.supplyhub.safety.recall;

/**
 * One spelling of a device identifier for every comparison (recall list, device index, query): a
 * GTIN-8/12/13 is the GTIN-14 with leading zeros (what a GS1 UDI's (01) carries), a HIBCC DI is
 * written without its leading {@code +} (what {@code UdiParser} returns), letters upper case.
 */
public final class DeviceIdentifiers {

    private DeviceIdentifiers() {
    }

    /** The comparable form of a DI as written anywhere; null for null or blank. */
    public static String normalize(String di) {
        if (di == null || di.isBlank()) {
            return null;
        }
        String s = di.trim().toUpperCase(java.util.Locale.ROOT);
        if (s.startsWith("+")) {
            s = s.substring(1);
        }
        boolean digits = !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
        if (digits && (s.length() == 8 || s.length() == 12 || s.length() == 13)) {
            return "0".repeat(14 - s.length()) + s;
        }
        return s;
    }

    /** Lots and serials compare trimmed and case-blind: a hand-typed recall notice must not miss on case. */
    public static String production(String value) {
        return value == null || value.isBlank() ? null : value.trim().toUpperCase(java.util.Locale.ROOT);
    }
}
