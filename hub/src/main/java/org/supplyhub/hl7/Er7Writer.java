package org.supplyhub.hl7;

import ca.uhn.hl7v2.model.DataTypeException;
import ca.uhn.hl7v2.parser.DefaultEscaping;
import ca.uhn.hl7v2.parser.EncodingCharacters;
import ca.uhn.hl7v2.parser.Escaping;

import java.time.Clock;

/**
 * ER7 text written the way {@code PipeParser.encode} writes a message object, with the standard
 * delimiters: each subcomponent followed by '&amp;', each component by '^', each field by '|';
 * trailing separators stripped at each of those levels (repetitions, joined by '~', are not); a
 * segment with nothing after its name left out; every value escaped by HAPI's own {@link Escaping}
 * (a value without a character it replaces is appended without calling it). The caller gives the
 * values as HAPI's {@code setValue} would store them (see {@code BillingDft} for the trimming rules).
 * {@link AckBuilder} writes ACKs with it, {@code BillingDft} billing DFTs.
 */
public final class Er7Writer {

    /** The delimiters the hub writes with (ACKs and DFTs), whatever a sender's. */
    static final EncodingCharacters STANDARD = new EncodingCharacters('|', "^~\\&");

    private final Escaping escaping;
    /** DefaultEscaping changes only the characters {@link #special} names; another one is always called. */
    private final boolean defaultEscaping;
    private final StringBuilder out;
    private int segmentStart;
    private int repetitionStart;
    private int componentStart;

    public Er7Writer(Escaping escaping, int capacity) {
        this.escaping = escaping;
        this.defaultEscaping = escaping.getClass() == DefaultEscaping.class;
        this.out = new StringBuilder(capacity);
    }

    /**
     * The time of a message header as HAPI's {@code initQuickstart} writes it
     * ({@code CommonTS.toHl7TSFormat} of a calendar at the clock's instant, in the clock's zone).
     */
    public static String timestamp(Clock clock) throws DataTypeException {
        return Hl7Timestamp.now(clock);
    }

    /** The clock HAPI reads: now, in the JVM's default time zone as it is at each call. */
    public static Clock systemClock() {
        return Hl7Timestamp.SYSTEM;
    }

    /** The MSH segment's name, field separator and encoding characters (MSH-1 and MSH-2, never escaped). */
    public Er7Writer startHeader() {
        segmentStart = out.length();
        out.append("MSH|^~\\&|");
        return this;
    }

    public Er7Writer startSegment(String name) {
        segmentStart = out.length();
        out.append(name).append('|');
        return this;
    }

    public Er7Writer endSegment() {
        strip('|', segmentStart);
        if (out.length() - segmentStart < 4) {
            out.setLength(segmentStart); // nothing but the name: PipeParser leaves it out
        } else {
            out.append('\r');
        }
        return this;
    }

    /** A field with one repetition and one value in its first component. */
    public Er7Writer field(String value) {
        startField();
        component(value);
        return endField();
    }

    /** A field nothing was set in. */
    public Er7Writer emptyField() {
        out.append('|');
        return this;
    }

    /** Empty fields up to (not including) {@code next}, the field about to be written, after {@code last}. */
    public Er7Writer skipTo(int last, int next) {
        for (int i = last + 1; i < next; i++) {
            out.append('|');
        }
        return this;
    }

    public Er7Writer startField() {
        repetitionStart = out.length();
        return this;
    }

    /** Ends a repetition and starts the next one of the same field. */
    public Er7Writer nextRepetition() {
        strip('^', repetitionStart);
        out.append('~');
        repetitionStart = out.length();
        return this;
    }

    public Er7Writer endField() {
        strip('^', repetitionStart);
        out.append('|');
        return this;
    }

    /** A component with one value in its first subcomponent. */
    public Er7Writer component(String value) {
        startComponent();
        subcomponent(value);
        return endComponent();
    }

    public Er7Writer emptyComponent() {
        out.append('^');
        return this;
    }

    public Er7Writer startComponent() {
        componentStart = out.length();
        return this;
    }

    public Er7Writer endComponent() {
        strip('&', componentStart);
        out.append('^');
        return this;
    }

    /** A value (null: nothing set, written as empty). */
    public Er7Writer subcomponent(String value) {
        if (value != null) {
            appendEscaped(value);
        }
        out.append('&');
        return this;
    }

    @Override
    public String toString() {
        return out.toString();
    }

    /**
     * The characters {@code DefaultEscaping} replaces with the standard delimiters: the five
     * delimiters, CR, and the truncation character, which for a four-character MSH-2 is NUL.
     */
    static boolean special(char c) {
        return c == '|' || c == '^' || c == '~' || c == '\\' || c == '&' || c == '\r' || c == '\0';
    }

    private void appendEscaped(String value) {
        if (defaultEscaping) {
            int n = value.length();
            int i = 0;
            while (i < n && !special(value.charAt(i))) {
                i++;
            }
            if (i == n) {
                out.append(value);
                return;
            }
        }
        out.append(escaping.escape(value, STANDARD));
    }

    private void strip(char separator, int from) {
        int end = out.length();
        while (end > from && out.charAt(end - 1) == separator) {
            end--;
        }
        out.setLength(end);
    }
}
