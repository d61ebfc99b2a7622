package org.supplyhub.mapping;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;

/** HL7 v2 DT / DTM values (YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]) to java.time. */
public final class Hl7Dates {

    private Hl7Dates() {
    }

    public static LocalDate date(String v) {
        String s = v.trim();
        if (s.length() < 8 || !s.substring(0, 8).chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("not a date");
        }
        try {
            return LocalDate.of(Integer.parseInt(s.substring(0, 4)), Integer.parseInt(s.substring(4, 6)),
                    Integer.parseInt(s.substring(6, 8)));
        } catch (java.time.DateTimeException e) {
            throw new IllegalArgumentException("not a date", e);
        }
    }

    /** A timestamp without an offset is read in the sender's zone. */
    public static OffsetDateTime dateTime(String v, ZoneId senderZone) {
        String s = v.trim();
        ZoneOffset offset = null;
        int sign = Math.max(s.indexOf('+'), s.indexOf('-'));
        if (sign > 0) {
            offset = ZoneOffset.of(s.substring(sign, sign + 3) + ":" + s.substring(sign + 3));
            s = s.substring(0, sign);
        }
        int dot = s.indexOf('.');
        String fraction = dot > 0 ? s.substring(dot + 1) : "";
        String digits = dot > 0 ? s.substring(0, dot) : s;
        if (digits.length() < 8 || digits.length() > 14 || digits.length() % 2 != 0
                || !digits.chars().allMatch(Character::isDigit)) {
            throw new IllegalArgumentException("not a timestamp");
        }
        try {
            LocalDateTime local = LocalDateTime.of(
                    Integer.parseInt(digits.substring(0, 4)), Integer.parseInt(digits.substring(4, 6)),
                    Integer.parseInt(digits.substring(6, 8)),
                    digits.length() >= 10 ? Integer.parseInt(digits.substring(8, 10)) : 0,
                    digits.length() >= 12 ? Integer.parseInt(digits.substring(10, 12)) : 0,
                    digits.length() >= 14 ? Integer.parseInt(digits.substring(12, 14)) : 0,
                    fraction.isEmpty() ? 0 : Integer.parseInt((fraction + "000000000").substring(0, 9)));
            return offset != null ? local.atOffset(offset) : local.atZone(senderZone).toOffsetDateTime();
        } catch (java.time.DateTimeException | NumberFormatException e) {
            throw new IllegalArgumentException("not a timestamp", e);
        }
    }
}
