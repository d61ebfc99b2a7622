package org.supplyhub.hl7;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.Type;
import ca.uhn.hl7v2.parser.EncodingCharacters;
import ca.uhn.hl7v2.parser.EncodingDetector;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.parser.Escaping;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.ValidationContext;

/**
 * HAPI's {@link PipeParser} with the preamble of {@code parse(String)} done once over the MSH segment.
 * HAPI 2.6 reads MSH-12 by splitting MSH, then MSH-9 by splitting the <em>whole message</em> on the
 * field separator, and runs its validator over the text and over the parsed message; with the hub's
 * validation context (HAPI's {@code NoValidation}: trim rules only, which {@code setValue} applies as
 * each value is parsed and which never report) that walk finds nothing. Together ~6 % of the intake
 * thread's JFR samples (issue 16); HAPI parse of the Mercy sample 108 → 93 µs thread CPU
 * ({@code IntakeStageCost}, medians of three paired runs). The segments themselves are parsed by HAPI
 * as before ({@link #parse(Message, String)}), into the same class HAPI picks.
 *
 * <p>Only a message whose MSH has at least 12 fields, usable encoding characters, a version HAPI knows
 * and an MSH-9 HAPI reads a structure from takes this way; anything else goes through HAPI's own
 * {@code parse(String)} unchanged, so every error is HAPI's. {@code Er7ParserTest} compares both.
 *
 * <p>Segments and fields are split on one character by {@link #split(String, char)} instead of HAPI's
 * {@code split}, which builds a {@code StringTokenizer} and an {@code ArrayList} for every field,
 * repetition, component and subcomponent: 17 % of the intake thread's JFR samples end to end
 * (issue 16). The loops are HAPI 2.6's own, with the same arrays; segments that HAPI treats
 * specially (MSH, FHS, BHS: delimiters; OBX, MFE: their data type is fixed after the parse) keep
 * HAPI's code.
 */
final class Er7Parser extends PipeParser {

    /** The context whose rules are known to correct values only; any other gets HAPI's path entire. */
    private final ValidationContext correctionsOnly;

    Er7Parser(HapiContext context, ValidationContext correctionsOnly) {
        super(context);
        this.correctionsOnly = correctionsOnly;
    }

    @Override
    public Message parse(String message) throws HL7Exception {
        Message fast = parseFromMsh(message);
        return fast != null ? fast : super.parse(message);
    }

    /** Null when HAPI's own path must decide (it then gives the same message, or its error). */
    Message parseFromMsh(String message) throws HL7Exception {
        if (getHapiContext().getValidationContext() != correctionsOnly || !message.startsWith("MSH")
                || !EncodingDetector.isEr7Encoded(message)) {
            return null;
        }
        int end = message.indexOf('\r');
        String msh = end < 0 ? message : message.substring(0, end);
        // HAPI's own split, so empty and trailing fields come out as in getVersion and getStructure; with
        // 12 or more fields, MSH-9 is followed by a separator inside MSH and reads the same as HAPI's
        // split of the whole message
        String[] fields = split(msh, String.valueOf(message.charAt(3)));
        if (fields.length < 12 || fields[1] == null || fields[1].length() != 4) {
            return null;
        }
        String componentSeparator = String.valueOf(fields[1].charAt(0));
        String[] versionComponents = split(fields[11], componentSeparator);
        String version = versionComponents.length == 0 ? null : versionComponents[0];
        if (version == null) {
            return null;
        }
        if (!getParserConfiguration().isAllowUnknownVersions()) {
            try {
                assertVersionExists(version);
            } catch (HL7Exception unknown) {
                return null;
            }
        }
        // getStructure: MSH-9-3, else ACK for any ACK, else MSH-9-1_MSH-9-2 (not explicit)
        String[] type = split(fields[8], componentSeparator);
        String structure;
        boolean explicit = true;
        if (type.length >= 3) {
            structure = type[2];
        } else if (type.length > 0 && "ACK".equals(type[0])) {
            structure = "ACK";
        } else if (type.length == 2) {
            structure = type[0] + "_" + type[1];
            explicit = false;
        } else {
            return null;
        }
        if (structure == null) {
            return null;
        }
        // as PipeParser.doParse and Parser.parse do after their checks
        Message m = instantiateMessage(structure, version, explicit);
        m.setParser(this);
        parse(m, message);
        m.setParser(this);
        applySuperStructureName(m);
        return m;
    }

    /**
     * HAPI 2.6's {@code PipeParser.parse(Segment, String, EncodingCharacters, int)} with the one-character
     * split; the segments it treats specially go to HAPI.
     */
    @Override
    public void parse(Segment destination, String segment, EncodingCharacters encodingChars, int theRepetition)
            throws HL7Exception {
        String name = destination.getName();
        String className = destination.getClass().getName();
        if ("MSH".equals(name) || "FHS".equals(name) || "BHS".equals(name)
                || className.contains("OBX") || className.contains("MFE")) {
            super.parse(destination, segment, encodingChars, theRepetition);
            return;
        }
        String[] fields = split(segment, encodingChars.getFieldSeparator());
        for (int i = 1; i < fields.length; i++) {
            String[] reps = split(fields[i], encodingChars.getRepetitionSeparator());
            for (int j = 0; j < reps.length; j++) {
                try {
                    parse(destination.getField(i, j), reps[j], encodingChars);
                } catch (HL7Exception e) { // as HAPI locates it
                    e.setFieldPosition(i);
                    if (theRepetition > 1) {
                        e.setSegmentRepetition(theRepetition);
                    }
                    e.setSegmentName(name);
                    throw e;
                }
            }
        }
    }

    /** HAPI 2.6's {@code PipeParser.parse(Type, String, EncodingCharacters)} with the one-character split. */
    @Override
    public void parse(Type destinationField, String data, EncodingCharacters encodingCharacters) throws HL7Exception {
        Escaping escaping = getParserConfiguration().getEscaping();
        String[] components = split(data, encodingCharacters.getComponentSeparator());
        for (int i = 0; i < components.length; i++) {
            String[] subcomponents = split(components[i], encodingCharacters.getSubcomponentSeparator());
            for (int j = 0; j < subcomponents.length; j++) {
                String value = subcomponents[j];
                if (value != null) {
                    value = escaping.unescape(value, encodingCharacters);
                }
                Terser.getPrimitive(destinationField, i + 1, j + 1).setValue(value);
            }
        }
    }

    private static final String[] NONE = new String[0];

    /**
     * What HAPI's {@code PipeParser.split(text, String.valueOf(delimiter))} returns, without its tokenizer
     * and list: the pieces between delimiters, an empty piece as null, and no piece after a last
     * delimiter (so {@code "a|"} is {@code [a]}, {@code "|"} is {@code [null]}, null or {@code ""} is
     * {@code []}). A text without the delimiter is returned as is. A delimiter that is half of a surrogate
     * pair (MSH-2 may hold one) goes to HAPI's split, which reads such text by code point.
     */
    static String[] split(String text, char delimiter) {
        if (Character.isSurrogate(delimiter)) {
            return split(text, String.valueOf(delimiter)); // HAPI's tokenizer never splits a surrogate pair
        }
        if (text == null || text.isEmpty()) {
            return NONE;
        }
        int count = 1;
        for (int at = text.indexOf(delimiter); at >= 0; at = text.indexOf(delimiter, at + 1)) {
            count++;
        }
        if (text.charAt(text.length() - 1) == delimiter) {
            count--;
        }
        String[] pieces = new String[count];
        int start = 0;
        for (int k = 0; k < count; k++) {
            int end = text.indexOf(delimiter, start);
            if (end < 0) {
                end = text.length();
            }
            pieces[k] = end == start ? null : text.substring(start, end);
            start = end + 1;
        }
        return pieces;
    }
}
