package org.supplyhub.mapping;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * HL7 v2 DT / DTM values (YYYYMMDD[HH[MM[SS[.S[S[S[S]]]]]]][+/-ZZZZ]) to java.time, keeping the
 * precision the sender gave. Read by hand in one pass: anything malformed, out of range or longer
 * than a DTM can be is an {@link IllegalArgumentException} before any number is parsed.
 */
public final class Hl7Dates {

    /** The longest DTM: 14 digits, a point, 4 fraction digits, a sign and 4 offset digits. */
    static final int MAX_LENGTH = 24;
    /** Earliest year taken: FHIR has no year 0, and nothing the hub maps happened before this. */
    static final int MIN_YEAR = 1800;

    private static final DateTimeFormatter HL7_MINUTES = DateTimeFormatter.ofPattern("yyyyMMddHHmmZ");
    private static final DateTimeFormatter HL7_HOURS = DateTimeFormatter.ofPattern("yyyyMMddHHZ");
    private static final DateTimeFormatter HL7_SECONDS = DateTimeFormatter.ofPattern("yyyyMMddHHmmssZ");
    private static final DateTimeFormatter HL7_MILLIS = DateTimeFormatter.ofPattern("yyyyMMddHHmmss.SSSZ");
    private static final DateTimeFormatter HL7_DAYS = DateTimeFormatter.ofPattern("yyyyMMdd");

    private Hl7Dates() {
    }

    /** A point in time and the unit the sender stated it to (DAYS for a date-only value). */
    public record Hl7Time(OffsetDateTime value, ChronoUnit precision) { }

    public static LocalDate date(String v) {
        String s = v.trim();
        if (s.length() < 8 || s.length() > MAX_LENGTH || !digits(s, 0, 8)) {
            throw new IllegalArgumentException("not a date");
        }
        int year = number(s, 0, 4);
        if (year < MIN_YEAR) {
            throw new IllegalArgumentException("year out of range");
        }
        try {
            return LocalDate.of(year, number(s, 4, 6), number(s, 6, 8));
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("not a date", e);
        }
    }

    /** A timestamp without an offset is read in the sender's zone. */
    public static OffsetDateTime dateTime(String v, ZoneId senderZone) {
        return time(v, senderZone).value();
    }

    /**
     * A DTM with at least the day. Offsets are ±HHMM within what FHIR can carry (−14:00…+14:00);
     * up to 4 fraction digits, kept to the millisecond.
     */
    public static Hl7Time time(String v, ZoneId senderZone) {
        String s = v.trim();
        int n = s.length();
        if (n < 8 || n > MAX_LENGTH) {
            throw new IllegalArgumentException("not a timestamp");
        }
        ZoneOffset offset = null;
        int end = n;
        int sign = Math.max(s.indexOf('+'), s.indexOf('-'));
        if (sign >= 0) {
            if (sign < 8 || n - sign != 5 || !digits(s, sign + 1, n)) {
                throw new IllegalArgumentException("bad time zone offset");
            }
            int hours = number(s, sign + 1, sign + 3);
            int minutes = number(s, sign + 3, n);
            if (minutes > 59 || hours > 14 || (hours == 14 && minutes != 0)) {
                throw new IllegalArgumentException("bad time zone offset");
            }
            int direction = s.charAt(sign) == '-' ? -1 : 1;
            offset = ZoneOffset.ofHoursMinutes(direction * hours, direction * minutes);
            end = sign;
        }
        int dot = s.indexOf('.');
        int digitsEnd = dot >= 0 && dot < end ? dot : end;
        int length = digitsEnd;
        if (length < 8 || length > 14 || length % 2 != 0 || !digits(s, 0, digitsEnd)) {
            throw new IllegalArgumentException("not a timestamp");
        }
        int nanos = 0;
        ChronoUnit precision = switch (length) {
            case 8 -> ChronoUnit.DAYS;
            case 10 -> ChronoUnit.HOURS;
            case 12 -> ChronoUnit.MINUTES;
            default -> ChronoUnit.SECONDS;
        };
        if (digitsEnd < end) {
            int fraction = end - digitsEnd - 1;
            if (length != 14 || fraction < 1 || fraction > 4 || !digits(s, digitsEnd + 1, end)) {
                throw new IllegalArgumentException("not a timestamp");
            }
            nanos = number(s, digitsEnd + 1, end);
            for (int i = fraction; i < 9; i++) {
                nanos *= 10;
            }
            nanos = nanos / 1_000_000 * 1_000_000; // FHIR and java.util.Date stop at the millisecond
            precision = ChronoUnit.MILLIS;
        }
        int year = number(s, 0, 4);
        if (year < MIN_YEAR) {
            throw new IllegalArgumentException("year out of range");
        }
        try {
            LocalDateTime local = LocalDateTime.of(year, number(s, 4, 6), number(s, 6, 8),
                    length >= 10 ? number(s, 8, 10) : 0,
                    length >= 12 ? number(s, 10, 12) : 0,
                    length >= 14 ? number(s, 12, 14) : 0,
                    nanos);
            OffsetDateTime value = offset != null ? local.atOffset(offset) : local.atZone(senderZone).toOffsetDateTime();
            if (value.getOffset().getTotalSeconds() > 14 * 3600 || value.getOffset().getTotalSeconds() < -14 * 3600) {
                throw new IllegalArgumentException("time zone offset out of range");
            }
            return new Hl7Time(value, precision);
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("not a timestamp", e);
        }
    }

    /** The value as an HL7 DTM to the precision given (null: seconds, as journals before precision had). */
    public static String format(OffsetDateTime value, ChronoUnit precision) {
        ChronoUnit p = precision == null ? ChronoUnit.SECONDS : precision;
        return switch (p) {
            case DAYS -> HL7_DAYS.format(value);
            case HOURS -> HL7_HOURS.format(value);
            case MINUTES -> HL7_MINUTES.format(value);
            case MILLIS -> HL7_MILLIS.format(value);
            default -> HL7_SECONDS.format(value);
        };
    }

    /** ISO 8601 text to the precision given: a date for DAYS, else the offset date-time. */
    public static String iso(OffsetDateTime value, ChronoUnit precision) {
        return precision == ChronoUnit.DAYS ? value.toLocalDate().toString() : value.toString();
    }

    private static boolean digits(String s, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') {
                return false;
            }
        }
        return true;
    }

    /** Digits already checked; at most 9 of them. */
    private static int number(String s, int from, int to) {
        int v = 0;
        for (int i = from; i < to; i++) {
            v = v * 10 + (s.charAt(i) - '0');
        }
        return v;
    }
}
