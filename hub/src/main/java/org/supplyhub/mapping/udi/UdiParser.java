package org.supplyhub.mapping.udi;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.YearMonth;
import java.util.Optional;

/**
 * Reads UDIs as senders put them in HL7: GS1 human-readable form ({@code (01)…(17)…(10)…(21)…}) or
 * GS1 element strings with GS separators, and HIBCC ({@code +LIC PCN U C / secondary}).
 */
public final class UdiParser {

    private static final char GS = 0x1d;
    private static final String HIBC_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";

    private UdiParser() {
    }

    public static Optional<Udi> parseIfPresent(String text) {
        return text == null || text.isBlank() ? Optional.empty() : Optional.of(parse(text));
    }

    public static Udi parse(String text) {
        if (text == null || text.isBlank()) {
            throw new UdiException("UDI is empty");
        }
        String s = text.trim();
        if (s.startsWith("(")) {
            return gs1Parenthesised(s, text);
        }
        if (s.startsWith("]d2") || s.startsWith("]C1") || s.startsWith("]Q3") || s.startsWith("]e0")) {
            return gs1ElementString(s.substring(3), text);
        }
        if (s.startsWith("01") && s.length() >= 16 && s.substring(0, 16).chars().allMatch(Character::isDigit)) {
            return gs1ElementString(s, text);
        }
        if (s.startsWith("+")) {
            return hibcc(s, text);
        }
        if (s.startsWith("=")) {
            throw new UdiException("ICCBBA (ISBT 128) UDIs are not supported");
        }
        throw new UdiException("not a GS1 or HIBCC UDI (expected '(01)…' or '+…')");
    }

    /** GS1 mod-10 check digit of a GTIN-8/12/13/14. */
    public static boolean isValidGtin(String digits) {
        if (digits == null || !(digits.length() == 8 || digits.length() == 12 || digits.length() == 13
                || digits.length() == 14) || !digits.chars().allMatch(Character::isDigit)) {
            return false;
        }
        return checkDigit(digits.substring(0, digits.length() - 1)) == digits.charAt(digits.length() - 1) - '0';
    }

    private static int checkDigit(String body) {
        int sum = 0;
        for (int i = 0; i < body.length(); i++) {
            int d = body.charAt(body.length() - 1 - i) - '0';
            sum += (i % 2 == 0) ? d * 3 : d;
        }
        return (10 - sum % 10) % 10;
    }

    private static Udi gs1Parenthesised(String s, String original) {
        Gs1 gs1 = new Gs1();
        int i = 0;
        while (i < s.length()) {
            if (s.charAt(i) != '(') {
                throw new UdiException("GS1 UDI: expected '(' at position " + (i + 1));
            }
            int close = s.indexOf(')', i);
            if (close < 0) {
                throw new UdiException("GS1 UDI: unclosed '(' at position " + (i + 1));
            }
            String ai = s.substring(i + 1, close);
            int next = s.indexOf('(', close);
            String value = next < 0 ? s.substring(close + 1) : s.substring(close + 1, next);
            gs1.put(ai, value);
            i = next < 0 ? s.length() : next;
        }
        return gs1.toUdi(original);
    }

    private static Udi gs1ElementString(String s, String original) {
        Gs1 gs1 = new Gs1();
        int i = 0;
        while (i < s.length()) {
            if (s.charAt(i) == GS) {
                i++;
                continue;
            }
            if (i + 2 > s.length()) {
                throw new UdiException("GS1 UDI: truncated application identifier at position " + (i + 1));
            }
            String ai = s.substring(i, i + 2);
            int fixed = switch (ai) {
                case "01" -> 14;
                case "11", "17" -> 6;
                case "10", "21" -> -1;
                default -> throw new UdiException("GS1 UDI: application identifier (" + ai + ") is not supported");
            };
            int start = i + 2;
            int end;
            if (fixed > 0) {
                end = start + fixed;
                if (end > s.length()) {
                    throw new UdiException("GS1 UDI: (" + ai + ") needs " + fixed + " characters");
                }
            } else {
                int gs = s.indexOf(GS, start);
                end = gs < 0 ? s.length() : gs;
            }
            gs1.put(ai, s.substring(start, end));
            i = end;
        }
        return gs1.toUdi(original);
    }

    /** Accumulates GS1 application identifiers and checks each. */
    private static final class Gs1 {
        String gtin;
        String lot;
        String serial;
        LocalDate expiry;
        LocalDate manufactured;

        void put(String ai, String value) {
            switch (ai) {
                case "01" -> {
                    if (value.length() != 14 || !value.chars().allMatch(Character::isDigit)) {
                        throw new UdiException("GS1 UDI: (01) must be 14 digits, got " + value.length() + " characters");
                    }
                    int expected = checkDigit(value.substring(0, 13));
                    if (expected != value.charAt(13) - '0') {
                        throw new UdiException("GS1 UDI: GTIN check digit is " + value.charAt(13) + ", expected " + expected);
                    }
                    gtin = value;
                }
                case "17" -> expiry = gs1Date(ai, value);
                case "11" -> manufactured = gs1Date(ai, value);
                case "10" -> lot = variable(ai, value);
                case "21" -> serial = variable(ai, value);
                default -> throw new UdiException("GS1 UDI: application identifier (" + ai + ") is not supported");
            }
        }

        Udi toUdi(String original) {
            if (gtin == null) {
                throw new UdiException("GS1 UDI: the device identifier (01) is missing");
            }
            return new Udi(Udi.Issuer.GS1, gtin, lot, serial, expiry, manufactured, original);
        }
    }

    private static String variable(String ai, String value) {
        if (value.isEmpty() || value.length() > 20) {
            throw new UdiException("GS1 UDI: (" + ai + ") must be 1 to 20 characters, got " + value.length());
        }
        return value;
    }

    /** YYMMDD with the GS1 century window (−49…+50 years) and DD = 00 meaning the month's last day. */
    static LocalDate gs1Date(String ai, String value) {
        if (value.length() != 6 || !value.chars().allMatch(Character::isDigit)) {
            throw new UdiException("GS1 UDI: (" + ai + ") date must be YYMMDD, got '" + value + "'");
        }
        int yy = Integer.parseInt(value.substring(0, 2));
        int mm = Integer.parseInt(value.substring(2, 4));
        int dd = Integer.parseInt(value.substring(4, 6));
        int thisYear = LocalDate.now().getYear();
        int year = thisYear / 100 * 100 + yy;
        int difference = yy - thisYear % 100;
        if (difference >= 51) {
            year -= 100;
        } else if (difference <= -50) {
            year += 100;
        }
        if (mm < 1 || mm > 12) {
            throw new UdiException("GS1 UDI: (" + ai + ") date " + value + " has month " + mm);
        }
        try {
            return dd == 0 ? YearMonth.of(year, mm).atEndOfMonth() : LocalDate.of(year, mm, dd);
        } catch (DateTimeException e) {
            throw new UdiException("GS1 UDI: (" + ai + ") date " + value + " is not a valid date");
        }
    }

    /**
     * HIBCC: {@code +} LIC(4) PCN(1–18) U/M(1) [/ secondary] C(check, modulo 43 over all before it).
     */
    private static Udi hibcc(String s, String original) {
        String body = s.substring(0, s.length() - 1);
        char check = s.charAt(s.length() - 1);
        char expected = hibcCheck(body);
        if (check != expected) {
            throw new UdiException("HIBCC UDI: check character is '" + check + "', expected '" + expected + "'");
        }
        String content = body.substring(1);
        int slash = content.indexOf('/');
        String primary = slash < 0 ? content : content.substring(0, slash);
        String secondary = slash < 0 ? null : content.substring(slash + 1);
        if (primary.length() < 6 || !Character.isLetter(primary.charAt(0))) {
            throw new UdiException("HIBCC UDI: primary data must be a 4-character labeler code (starting with a letter),"
                    + " a product number and a unit of measure digit");
        }
        if (!Character.isDigit(primary.charAt(primary.length() - 1))) {
            throw new UdiException("HIBCC UDI: unit of measure must be a digit");
        }
        String lot = null;
        String serial = null;
        LocalDate expiry = null;
        if (secondary != null && !secondary.isEmpty()) {
            if (secondary.startsWith("$$+")) {
                serial = hibccDateAndValue(secondary.substring(3), holder -> { });
            } else if (secondary.startsWith("$+")) {
                serial = secondary.substring(2);
            } else if (secondary.startsWith("$$")) {
                LocalDate[] date = new LocalDate[1];
                lot = hibccDateAndValue(secondary.substring(2), d -> date[0] = d);
                expiry = date[0];
            } else if (secondary.startsWith("$")) {
                lot = secondary.substring(1);
            } else if (secondary.length() >= 5 && secondary.substring(0, 5).chars().allMatch(Character::isDigit)) {
                expiry = julian(secondary.substring(0, 5)); // YYJJJ then lot
                lot = secondary.substring(5);
            } else {
                throw new UdiException("HIBCC UDI: secondary data format is not supported");
            }
        }
        return new Udi(Udi.Issuer.HIBCC, primary, emptyToNull(lot), emptyToNull(serial), expiry, null, original);
    }

    /** After {@code $$}: an optional format digit and date, then the lot or serial. */
    private static String hibccDateAndValue(String s, java.util.function.Consumer<LocalDate> date) {
        if (s.isEmpty()) {
            return s;
        }
        char format = s.charAt(0);
        try {
            switch (format) {
                case '2' -> { date.accept(LocalDate.of(2000 + num(s, 5, 7), num(s, 1, 3), num(s, 3, 5))); return s.substring(7); }
                case '3' -> { date.accept(LocalDate.of(2000 + num(s, 1, 3), num(s, 3, 5), num(s, 5, 7))); return s.substring(7); }
                case '4' -> { date.accept(LocalDate.of(2000 + num(s, 1, 3), num(s, 3, 5), num(s, 5, 7))); return s.substring(9); }
                case '5' -> { date.accept(julian(s.substring(1, 6))); return s.substring(6); }
                case '6' -> { date.accept(julian(s.substring(1, 6))); return s.substring(8); }
                case '7' -> { return s.substring(1); }
                case '8', '9' -> throw new UdiException("HIBCC UDI: quantity formats ($$8, $$9) are not supported");
                default -> {
                    if (Character.isDigit(format)) { // MMYY
                        date.accept(YearMonth.of(2000 + num(s, 2, 4), num(s, 0, 2)).atEndOfMonth());
                        return s.substring(4);
                    }
                    return s;
                }
            }
        } catch (DateTimeException | StringIndexOutOfBoundsException | NumberFormatException e) {
            throw new UdiException("HIBCC UDI: secondary data has an invalid date");
        }
    }

    /** YYJJJ: the year and the day of that year (1–365, or 366 in a leap year). */
    private static LocalDate julian(String yyjjj) {
        try {
            return LocalDate.ofYearDay(2000 + Integer.parseInt(yyjjj.substring(0, 2)), Integer.parseInt(yyjjj.substring(2, 5)));
        } catch (DateTimeException | NumberFormatException | IndexOutOfBoundsException e) {
            throw new UdiException("HIBCC UDI: '" + yyjjj + "' is not a Julian date (YYJJJ)");
        }
    }

    private static int num(String s, int from, int to) {
        return Integer.parseInt(s.substring(from, to));
    }

    static char hibcCheck(String data) {
        int sum = 0;
        for (char c : data.toCharArray()) {
            int v = HIBC_CHARS.indexOf(c);
            if (v < 0) {
                throw new UdiException("HIBCC UDI: character '" + c + "' is not allowed");
            }
            sum += v;
        }
        return HIBC_CHARS.charAt(sum % 43);
    }

    private static String emptyToNull(String s) {
        return s == null || s.isEmpty() ? null : s;
    }
}
