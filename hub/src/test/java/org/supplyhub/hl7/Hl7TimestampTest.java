package org.supplyhub.hl7;

import ca.uhn.hl7v2.model.DataTypeException;
import ca.uhn.hl7v2.model.primitive.CommonTS;
import org.junit.jupiter.api.Test;

import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.Calendar;
import java.util.GregorianCalendar;
import java.util.Random;
import java.util.TimeZone;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link Hl7Timestamp} formats MSH-7 exactly as HAPI's {@code CommonTS} does, for every millisecond of a minute. */
class Hl7TimestampTest {

    private static final String[] ZONES = {"UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu",
            "Pacific/Chatham", "America/Los_Angeles", "Etc/GMT+12", "Pacific/Kiritimati", "Africa/Monrovia"};

    @Test
    void everySecondAndMillisecondOfAMinute() throws DataTypeException {
        for (String zone : new String[]{"UTC", "Asia/Kathmandu"}) {
            long start = ZonedDateTime.of(2026, 11, 29, 15, 59, 0, 0, ZoneId.of(zone)).toInstant().toEpochMilli();
            for (long t = start; t < start + 60_000; t++) {
                assertThat(Hl7Timestamp.format(t, ZoneId.of(zone))).as("%s in %s", t, zone).isEqualTo(hapi(t, zone));
            }
        }
    }

    /** Both formatting methods HAPI uses (generateACK's and setValue(Calendar), the NACK's) agree. */
    @Test
    void randomInstantsAcrossYearsAndDaylightSavingChanges() throws DataTypeException {
        Random random = new Random(7);
        for (String zone : ZONES) {
            for (int i = 0; i < 2_000; i++) {
                long t = 0L + (long) (random.nextDouble() * 4_102_444_800_000L); // 1970–2100
                String expected = hapi(t, zone);
                assertThat(Hl7Timestamp.format(t, ZoneId.of(zone))).as("%s in %s", t, zone).isEqualTo(expected);
                CommonTS ts = new CommonTS();
                GregorianCalendar calendar = new GregorianCalendar(TimeZone.getTimeZone(zone));
                calendar.setTimeInMillis(t);
                ts.setValue((Calendar) calendar);
                assertThat(ts.getValue()).isEqualTo(expected);
            }
            // the second around each change of offset in 2026
            ZoneId id = ZoneId.of(zone);
            var transition = id.getRules().nextTransition(java.time.Instant.parse("2026-01-01T00:00:00Z"));
            if (transition != null) {
                long at = transition.toEpochSecond() * 1000;
                for (long t = at - 2_000; t < at + 2_000; t++) {
                    assertThat(Hl7Timestamp.format(t, id)).isEqualTo(hapi(t, zone));
                }
            }
        }
    }

    private static String hapi(long epochMillis, String zone) throws DataTypeException {
        GregorianCalendar calendar = new GregorianCalendar(TimeZone.getTimeZone(zone));
        calendar.setTimeInMillis(epochMillis);
        return CommonTS.toHl7TSFormat(calendar);
    }
}
