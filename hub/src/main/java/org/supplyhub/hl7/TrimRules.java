package org.supplyhub.hl7;

import ca.uhn.hl7v2.model.Primitive;
import ca.uhn.hl7v2.validation.EncodingRule;
import ca.uhn.hl7v2.validation.MessageRule;
import ca.uhn.hl7v2.validation.PrimitiveTypeRule;
import ca.uhn.hl7v2.validation.ValidationContext;
import ca.uhn.hl7v2.validation.ValidationException;

import java.util.Collection;
import java.util.List;

/**
 * What HAPI's {@code ValidationContextFactory.noValidation()} does, without its regular expressions and
 * its synchronized rule cache: FT and ST values lose leading whitespace, TX values trailing whitespace, and
 * nothing is checked. HAPI asks the context for every value it sets ({@code AbstractPrimitive.setValue}),
 * so the lookup and two regex matchers per value were ~5 % of the intake thread's JFR samples end to end
 * (issue 16). {@code TrimRulesTest} compares the trims with HAPI's over random texts.
 */
final class TrimRules implements ValidationContext {

    static final TrimRules INSTANCE = new TrimRules();

    private static final List<PrimitiveTypeRule> LEADING = List.of(new Trim(true));
    private static final List<PrimitiveTypeRule> TRAILING = List.of(new Trim(false));

    private TrimRules() {
    }

    @Override
    public Collection<PrimitiveTypeRule> getPrimitiveRules(String version, String typeName, Primitive type) {
        if (typeName == null) {
            return List.of();
        }
        return switch (typeName) {
            case "FT", "ST" -> LEADING;
            case "TX" -> TRAILING;
            default -> List.of();
        };
    }

    @Override
    public Collection<MessageRule> getMessageRules(String version, String messageType, String triggerEvent) {
        return List.of();
    }

    @Override
    public Collection<EncodingRule> getEncodingRules(String version, String encoding) {
        return List.of();
    }

    /** Whitespace as {@code \s} means in a Java regex. */
    private static boolean space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == 0x0B || c == '\f' || c == '\r';
    }

    /** What {@code "^\\s+"} replaced by nothing leaves. */
    static String trimLeading(String value) {
        if (value == null) {
            return null;
        }
        int start = 0;
        while (start < value.length() && space(value.charAt(start))) {
            start++;
        }
        return start == 0 ? value : value.substring(start);
    }

    /**
     * What {@code "\\s+$"} replaced by nothing leaves: {@code $} also matches before a line terminator that
     * ends the text, so whitespace before a last NEL, LS or PS (not whitespace to {@code \s}) goes too.
     */
    static String trimTrailing(String value) {
        if (value == null) {
            return null;
        }
        int end = value.length();
        if (end > 0) {
            char last = value.charAt(end - 1);
            if (last == '\u0085' || last == '\u2028' || last == '\u2029') {
                end--;
            }
        }
        int start = end;
        while (start > 0 && space(value.charAt(start - 1))) {
            start--;
        }
        return start == end ? value : value.substring(0, start) + value.substring(end);
    }

    /** One of NoValidation's rules: corrects by trimming, finds nothing. */
    private record Trim(boolean leading) implements PrimitiveTypeRule {

        private static final ValidationException[] NONE = new ValidationException[0];

        @Override
        public String correct(String value) {
            return leading ? trimLeading(value) : trimTrailing(value);
        }

        @Override
        public boolean test(String value) {
            return true;
        }

        @Override
        public ValidationException[] apply(String value) {
            return NONE;
        }

        @Override
        public String getDescription() {
            return leading ? "leading whitespace trimmed" : "trailing whitespace trimmed";
        }

        @Override
        public String getSectionReference() {
            return null;
        }
    }
}
