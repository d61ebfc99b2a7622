package org.supplyhub.mapping;

import ca.uhn.hl7v2.ErrorCode;

import java.math.BigDecimal;
import java.util.Currency;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What intake takes, so that every accepted message can be rendered (FHIR R4, DFT, JSON) and
 * delivered: bounded lengths, no control characters, FHIR {@code code} syntax where a value
 * becomes a code, HL7 NM numbers of bounded size, ISO 4217 currencies. Each check runs on the raw
 * text before anything expensive (a million-digit quantity is refused by its length, never parsed).
 */
final class FieldChecks {

    /** Identifiers: MRN, account, visit, transaction ids, lot, serial, device identifier. */
    static final int ID_MAX = 64;
    /** Codes that become FHIR {@code code} values (item code, identifier type). */
    static final int CODE_MAX = 64;
    /** Free text: item description, manufacturer, model, body site, location. */
    static final int TEXT_MAX = 200;
    /** One note (NTE-3 repetition). */
    static final int NOTE_MAX = 2000;
    /** A UDI as printed (GS1 and HIBCC carriers are far shorter). */
    static final int UDI_MAX = 256;
    /** Quantities: up to 9 integer and 4 fraction digits. */
    static final int QUANTITY_DIGITS = 9;
    /** Prices and amounts: up to 12 integer and 4 fraction digits. */
    static final int AMOUNT_DIGITS = 12;
    static final int FRACTION_DIGITS = 4;

    private static final Set<String> CURRENCIES = Currency.getAvailableCurrencies().stream()
            .map(Currency::getCurrencyCode).collect(Collectors.toUnmodifiableSet());

    private FieldChecks() {
    }

    /** An absolute URI without spaces: what a FHIR system must be. */
    static boolean isUri(String value) {
        if (value.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            return false;
        }
        try {
            return new java.net.URI(value).isAbsolute();
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    /** An identifier or free text: at most {@code max} characters, none of them a control character. */
    static String text(String v, int max, FieldRule rule, int line, String what) {
        if (v == null) {
            return null;
        }
        if (v.length() > max) {
            throw error(rule, line, ErrorCode.DATA_TYPE_ERROR, what + " is " + v.length()
                    + " characters long, at most " + max + " are taken");
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw error(rule, line, ErrorCode.DATA_TYPE_ERROR, what + " contains a control character at position "
                        + (i + 1));
            }
        }
        return v;
    }

    /** A UDI as sent: GS1 element strings may separate variable-length fields with GS (0x1D). */
    static String udi(String v, FieldRule rule, int line) {
        if (v == null) {
            return null;
        }
        if (v.length() > UDI_MAX) {
            throw error(rule, line, ErrorCode.DATA_TYPE_ERROR, "UDI is " + v.length()
                    + " characters long, at most " + UDI_MAX + " are taken");
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if ((c < 0x20 && c != 0x1d) || c == 0x7f) {
                throw error(rule, line, ErrorCode.DATA_TYPE_ERROR, "UDI contains a control character at position " + (i + 1));
            }
        }
        return v;
    }

    /** A value that becomes a FHIR code: no control characters, no leading, trailing or double spaces. */
    static String code(String v, int max, FieldRule rule, int line, String what) {
        text(v, max, rule, line, what);
        if (v != null) {
            for (int i = 0; i < v.length(); i++) {
                if (Character.isWhitespace(v.charAt(i))
                        && (i == 0 || i == v.length() - 1 || Character.isWhitespace(v.charAt(i + 1)))) {
                    throw error(rule, line, ErrorCode.DATA_TYPE_ERROR, what + " has a leading, trailing or double space");
                }
            }
        }
        return v;
    }

    /** ISO 4217: three capital letters naming a currency. */
    static String currency(String v, FieldRule rule, int line) {
        if (v == null || v.length() != 3 || !CURRENCIES.contains(v)) {
            throw error(rule, line, ErrorCode.TABLE_VALUE_NOT_FOUND,
                    "currency " + (v == null || v.length() > 8 ? "" : "'" + v + "' ")
                            + "is not an ISO 4217 code like USD");
        }
        return v;
    }

    /**
     * An HL7 NM ({@code [+|-]digits[.digits]}, no exponent) with at most {@code integerDigits} before
     * and {@link #FRACTION_DIGITS} after the point; checked character by character before parsing.
     */
    static BigDecimal number(String v, int integerDigits, FieldRule rule, int line, String what) {
        if (v == null) {
            return null;
        }
        int limit = 1 + integerDigits + 1 + FRACTION_DIGITS + 16; // sign, point, and some leading zeros
        if (v.length() > limit) {
            throw error(rule, line, ErrorCode.DATA_TYPE_ERROR, what + " is " + v.length()
                    + " characters long; at most " + integerDigits + " digits before the point and "
                    + FRACTION_DIGITS + " after are taken");
        }
        int i = 0;
        if (i < v.length() && (v.charAt(i) == '+' || v.charAt(i) == '-')) {
            i++;
        }
        int whole = 0;
        int fraction = 0;
        boolean point = false;
        boolean leading = true;
        for (; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '.' && !point) {
                point = true;
            } else if (c >= '0' && c <= '9') {
                if (point) {
                    fraction++;
                } else if (!(leading && c == '0')) {
                    leading = false;
                    whole++;
                }
            } else {
                throw error(rule, line, ErrorCode.DATA_TYPE_ERROR, what + " '" + shorten(v) + "' is not a number");
            }
        }
        if (whole == 0 && fraction == 0 && !hasDigit(v)) {
            throw error(rule, line, ErrorCode.DATA_TYPE_ERROR, what + " '" + shorten(v) + "' is not a number");
        }
        if (whole > integerDigits || fraction > FRACTION_DIGITS) {
            throw error(rule, line, ErrorCode.DATA_TYPE_ERROR, what + " '" + shorten(v) + "' is out of range: at most "
                    + integerDigits + " digits before the point and " + FRACTION_DIGITS + " after are taken");
        }
        return new BigDecimal(v.charAt(0) == '+' ? v.substring(1) : v);
    }

    /** A computed amount (price × quantity) stays within what a sent amount may be. */
    static BigDecimal amount(BigDecimal value, FieldRule rule, int line, String what) {
        if (value.precision() - value.scale() > AMOUNT_DIGITS) {
            throw error(rule, line, ErrorCode.DATA_TYPE_ERROR, what + " is out of range: at most "
                    + AMOUNT_DIGITS + " digits before the point are taken");
        }
        return value;
    }

    private static boolean hasDigit(String v) {
        for (int i = 0; i < v.length(); i++) {
            if (v.charAt(i) >= '0' && v.charAt(i) <= '9') {
                return true;
            }
        }
        return false;
    }

    private static String shorten(String v) {
        return v.length() <= 24 ? v : v.substring(0, 20) + "…";
    }

    static MappingException error(FieldRule rule, int line, ErrorCode code, String text) {
        String path = rule == null ? "" : rule.describe();
        return new MappingException(path, line, code, path + (line > 0 ? " (line " + line + ")" : "") + ": " + text);
    }
}
