package org.supplyhub.hl7;

import ca.uhn.hl7v2.model.DataTypeException;
import ca.uhn.hl7v2.model.primitive.CommonTS;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.GregorianCalendar;
import java.util.TimeZone;

/**
 * MSH-7 of an ACK exactly as HAPI writes it ({@code CommonTS.toHl7TSFormat}, used by
 * {@code generateACK}, and {@code CommonTS.setValue(Calendar)}, which format alike):
 * {@code yyyyMMddHHmmss}, then the milliseconds as {@code Float.toString} prints them without
 * trailing zeros ({@code .1}, {@code .12}, {@code .123}, nothing for 0), then the zone offset
 * {@code ±HHMM}. HAPI builds a calendar and a {@code CommonTS} per call; here the date, time and
 * offset are formatted once per second and zone (HAPI itself, so they cannot differ), and the
 * fraction comes from a table made with HAPI's own float arithmetic (checked against
 * {@code CommonTS} for every second and millisecond in the tests).
 */
final class Hl7Timestamp {

    /** Fractions HAPI appends for 0–999 ms: {@code Float.toString(n / 10000F)} minus its leading "0". */
    private static final String[] FRACTIONS = new String[1000];

    static {
        for (int milli = 0; milli < 1000; milli++) {
            int tenThousandths = milli * 10;
            float fraction = tenThousandths / 10000F;
            FRACTIONS[milli] = fraction != 0.0F ? Float.toString(fraction).substring(1) : "";
        }
    }

    /** The last second formatted (date, time and offset), shared by threads; replaced whole. */
    private record Second(long epochSecond, ZoneId zone, String dateTime, String offset) {
    }

    private static volatile Second last = new Second(Long.MIN_VALUE, null, null, null);

    private Hl7Timestamp() {
    }

    /** The clock HAPI reads: now, in the JVM's default time zone as it is at each call. */
    static final Clock SYSTEM = new Clock() {
        @Override
        public ZoneId getZone() {
            return ZoneId.systemDefault();
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return Clock.system(zone);
        }

        @Override
        public long millis() {
            return System.currentTimeMillis();
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis());
        }
    };

    /** The clock's instant formatted as HAPI formats it in the clock's zone. */
    static String now(Clock clock) throws DataTypeException {
        return format(clock.millis(), clock.getZone());
    }

    static String format(long epochMillis, ZoneId zone) throws DataTypeException {
        long epochSecond = Math.floorDiv(epochMillis, 1000);
        int milli = (int) Math.floorMod(epochMillis, 1000);
        Second second = last;
        if (second.epochSecond != epochSecond || !zone.equals(second.zone)) {
            second = wholeSecond(epochSecond, zone);
            last = second;
        }
        return second.dateTime + FRACTIONS[milli] + second.offset;
    }

    /** HAPI's own formatting of the whole second: {@code yyyyMMddHHmmss±HHMM}. */
    private static Second wholeSecond(long epochSecond, ZoneId zone) throws DataTypeException {
        GregorianCalendar calendar = new GregorianCalendar(TimeZone.getTimeZone(zone));
        calendar.setTimeInMillis(epochSecond * 1000);
        String whole = CommonTS.toHl7TSFormat(calendar);
        return new Second(epochSecond, zone, whole.substring(0, 14), whole.substring(14));
    }
}
