package org.supplyhub.safety.recall;

import java.math.BigInteger;

/**
 * An inclusive range of serial numbers, {@code from}–{@code to}. When both bounds are all digits the
 * range is numeric (a serial of digits matches by value, leading zeros or not: 999 lies in 100–1000,
 * which text order would miss). Otherwise the bounds must have the same length and a serial matches
 * only at that length, by character order: for the fixed-width alphanumeric serials manufacturers
 * print (SN00042519) that is the sequence, while across lengths text order is not ("A2" sorts after
 * "A10"), so an unequal-length range is refused when loaded instead of matching by accident.
 */
public record SerialRange(String from, String to) {

    public SerialRange {
        from = DeviceIdentifiers.production(from);
        to = DeviceIdentifiers.production(to);
        if (from == null || to == null) {
            throw new IllegalArgumentException("a serial range needs both bounds");
        }
        if (numeric(from) && numeric(to)) {
            if (new BigInteger(from).compareTo(new BigInteger(to)) > 0) {
                throw new IllegalArgumentException("serial range " + from + "–" + to + " runs backwards");
            }
        } else {
            if (from.length() != to.length()) {
                throw new IllegalArgumentException("serial range " + from + "–" + to + " mixes letters and digits"
                        + " with bounds of different lengths; write both bounds at the same length (e.g. SN0100–SN2000)");
            }
            if (from.compareTo(to) > 0) {
                throw new IllegalArgumentException("serial range " + from + "–" + to + " runs backwards");
            }
        }
    }

    public boolean isNumeric() {
        return numeric(from) && numeric(to);
    }

    public boolean contains(String serial) {
        String s = DeviceIdentifiers.production(serial);
        if (s == null) {
            return false;
        }
        if (isNumeric()) {
            return numeric(s) && new BigInteger(s).compareTo(new BigInteger(from)) >= 0
                    && new BigInteger(s).compareTo(new BigInteger(to)) <= 0;
        }
        return s.length() == from.length() && s.compareTo(from) >= 0 && s.compareTo(to) <= 0;
    }

    private static boolean numeric(String s) {
        return !s.isEmpty() && s.length() <= 40 && s.chars().allMatch(c -> c >= '0' && c <= '9');
    }
}
