package org.supplyhub.hl7;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.parser.DefaultModelClassFactory;
import ca.uhn.hl7v2.parser.ModelClassFactory;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.validation.ValidationContext;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.supplyhub.support.Samples;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link Er7Parser} against HAPI's own {@link PipeParser} as the oracle: for the samples and variants of
 * their MSH (versions, MSH-9 shapes, missing fields, odd delimiters, z-segments, whitespace), the same
 * message class and name and the same encoding, or the same error (class, text and code).
 */
class Er7ParserTest {

    private static final ValidationContext NO_VALIDATION = ValidationContextFactory.noValidation();

    static Stream<String> messages() {
        List<String> samples = List.of(Samples.read(Samples.MERCY), Samples.read(Samples.MERCY_CREDIT),
                Samples.read("dft-p03-v28-prt.hl7"));
        List<String> out = new ArrayList<>();
        for (String s : samples) {
            String text = s.replace("\r\n", "\r").replace('\n', '\r');
            String msh = text.substring(0, text.indexOf('\r'));
            String rest = text.substring(text.indexOf('\r'));
            String[] f = msh.split("\\|", -1);
            out.add(text);
            out.add(msh);
            out.add(text + "\r\r");
            out.add(text.replace("ZIM|", "ZZZ|"));
            for (String type : List.of("DFT^P03", "DFT^P03^", "DFT", "ACK", "ACK^P03", "^P03^DFT_P03", "DFT^^DFT_P03",
                    "DFT^P03^^X", "", "ADT^A01^ADT_A01", "ADT^A01", "XYZ^Q99^XYZ_Q99", "ACK^A01^ACK", "DFT^P03^DFT_P03~ADT")) {
                out.add(withField(f, 8, type) + rest);
            }
            for (String version : List.of("2.5.1", "2.3", "2.8", "2.9", "", "^2.5", "2.5.1^X", "banana", "2.4~2.5")) {
                out.add(withField(f, 11, version) + rest);
            }
            out.add(String.join("|", java.util.Arrays.copyOf(f, 11)) + rest);       // no MSH-12
            out.add(String.join("|", java.util.Arrays.copyOf(f, 12)) + rest);       // MSH-12 last
            out.add(String.join("|", java.util.Arrays.copyOf(f, 12)) + "|" + rest); // trailing separator
            out.add(String.join("|", java.util.Arrays.copyOf(f, 9)) + rest);        // MSH-9 last
            out.add(withField(f, 1, "^~\\") + rest);                                  // three encoding characters
            out.add(withField(f, 1, "^~\\&#") + rest);                                // five
            out.add(text.replace('|', '#').replace("MSH#", "MSH#"));                // another field separator
            out.add(text.replace("MSH|^~\\&", "MSH|$~\\&").replace('^', '$'));      // another component separator
            // field-level shapes for the one-character split: empty and trailing repetitions, components
            // and subcomponents, escapes, more fields than the segment defines, a z-segment of delimiters
            out.add(msh + rest.replace("^", "^^&"));
            out.add(msh + rest.replace("|", "|~"));
            out.add(msh + rest.replace("|", "||"));
            out.add(msh + rest.replace("^", "\\F\\^").replace("|", "\\S\\|"));
            out.add(msh + rest.replace("^", "&^~"));
            out.add(msh + rest.replace("|", "| \t").replace("^", "^ "));             // leading whitespace (trimmed in ST, FT)
            out.add(msh + rest.replace("|", " \r\n|").replace("^", "\u2028^"));    // trailing (trimmed in TX)
            out.add(text + "\rZZZ|a^b&c~d|\\T\\|~~|^^|&&|^~&|");
            out.add(text + "\rZZZ||||");
            // an encoding character that is half of a surrogate pair: HAPI never splits the pair
            out.add(msh.replace("|^~", "|\uD83D~") + rest.replace("^", "\uD83D") + "\rZZZ|DOE\uD83D\uDE00JOHN|A\uD83D\uDE03B");
            out.add(text + "\rOBX|1|NM|123^X||42|mg");
            out.add(" " + text);
            out.add("\r" + text);
            out.add("EVN|P03\r" + text);
            out.add("MSH");
            out.add("MSH|");
            out.add("");
        }
        return out.stream();
    }

    private static String withField(String[] fields, int index, String value) {
        String[] copy = fields.clone();
        copy[index] = value;
        return String.join("|", copy);
    }

    static Stream<Supplier<ModelClassFactory>> factories() {
        return Stream.of(DefaultModelClassFactory::new, () -> new CanonicalModelClassFactory("2.5.1"),
                () -> new CanonicalModelClassFactory("2.8"));
    }

    @ParameterizedTest
    @MethodSource("factories")
    void parsesAsHapiDoes(Supplier<ModelClassFactory> factory) throws HL7Exception {
        HapiContext context = new DefaultHapiContext(factory.get());
        context.setValidationContext(NO_VALIDATION);
        PipeParser hapi = new PipeParser(context);
        // ours as the hub configures it: with TrimRules, HAPI's "no validation" without regular expressions
        HapiContext trimOnly = new DefaultHapiContext(factory.get());
        trimOnly.setValidationContext(TrimRules.INSTANCE);
        Er7Parser ours = new Er7Parser(trimOnly, TrimRules.INSTANCE);
        int fast = 0;
        for (String text : messages().toList()) {
            Object expected = outcome(() -> hapi.parse(text), hapi);
            Object actual = outcome(() -> ours.parse(text), hapi);
            assertThat(actual).as("%s", text.replace('\r', '/')).isEqualTo(expected);
            try {
                fast += ours.parseFromMsh(text) != null ? 1 : 0;
            } catch (HL7Exception e) {
                // counted by the comparison above
            }
        }
        assertThat(fast).as("the samples take the shortened path").isGreaterThan(20);
    }

    @org.junit.jupiter.api.Test
    void splitsAsHapiDoes() {
        java.util.Random random = new java.util.Random(16);
        List<String> texts = new ArrayList<>(List.of("", "a", "|", "||", "a|", "|a", "a||b", "a|b|", "|||a|||"));
        for (int n = 0; n < 20_000; n++) {
            StringBuilder b = new StringBuilder();
            for (int i = random.nextInt(12); i > 0; i--) {
                b.append("ab|^ ~\\".charAt(random.nextInt(7)));
                if (random.nextInt(10) == 0) {
                    b.append(random.nextBoolean() ? "\uD83D\uDE00" : "\uDE00"); // a pair, a lone low surrogate
                }
            }
            texts.add(b.toString());
        }
        for (String text : texts) {
            for (char delimiter : new char[] {'|', '^', '~', '\uD83D', '\uDE00'}) {
                assertThat(Er7Parser.split(text, delimiter)).as("'%s' on %s", text, delimiter)
                        .containsExactly(PipeParser.split(text, String.valueOf(delimiter)));
            }
        }
        assertThat(Er7Parser.split(null, '|')).isEmpty();
    }

    @org.junit.jupiter.api.Test
    void anotherValidationContextTakesHapisPath() {
        HapiContext context = new DefaultHapiContext();
        context.setValidationContext(ValidationContextFactory.defaultValidation());
        Er7Parser ours = new Er7Parser(context, NO_VALIDATION);
        assertThat(outcome(() -> ours.parseFromMsh(Samples.read(Samples.MERCY)), ours)).isEqualTo(List.of("null"));
    }

    private interface Parse {
        Message run() throws Exception;
    }

    /** What a parse came to, comparable: class, name and encoding, or the error. */
    private static Object outcome(Parse parse, PipeParser encoder) {
        try {
            Message m = parse.run();
            if (m == null) {
                return List.of("null");
            }
            return List.of(m.getClass().getName(), String.valueOf(m.getName()), encoder.encode(m),
                    m.getParser() == null ? "no parser" : "parser");
        } catch (HL7Exception e) {
            return List.of(e.getClass().getName(), String.valueOf(e.getMessage()), e.getErrorCode(),
                    String.valueOf(e.getLocation())); // segment, its repetition and the field, as HAPI locates them
        } catch (Exception e) {
            return List.of(e.getClass().getName(), String.valueOf(e.getMessage()));
        }
    }
}
