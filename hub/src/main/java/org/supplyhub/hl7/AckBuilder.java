package org.supplyhub.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Location;
import ca.uhn.hl7v2.Version;
import ca.uhn.hl7v2.parser.EncodingCharacters;
import ca.uhn.hl7v2.parser.Escaping;

/**
 * ACK text (MSH, MSA and, with an error, ERR) written straight from the values HAPI's
 * {@code generateACK} + {@code HL7Exception.populateResponse} would put in a new ACK object, encoded
 * the way {@code PipeParser.encode} encodes it: every value escaped by HAPI's own {@link Escaping}
 * with the standard delimiters, empty trailing subcomponents, components and fields stripped, a
 * segment with nothing after its name left out. Instantiating the ACK class reflectively, filling it
 * through {@code Terser} and walking it to encode were about 8 % of the CPU per message in the JFR
 * profile of issue 16. The equivalence with HAPI is checked byte for byte by {@code AckBuilderTest}.
 *
 * <p>The ACK's model version (which decides MSH-9-3 and the ERR layout) is the one HAPI would
 * instantiate the ACK class in; the caller resolves it (see {@link Hl7Support}).
 */
final class AckBuilder {

    /** The delimiters every ACK the hub writes uses, whatever the sender's. */
    static final EncodingCharacters STANDARD = new EncodingCharacters('|', "^~\\&");

    private final Escaping escaping;
    private final StringBuilder out = new StringBuilder(256);
    private int segmentStart;
    private int fieldStart;
    private int componentStart;

    AckBuilder(Escaping escaping) {
        this.escaping = escaping;
    }

    /** MSH fields of the ACK: who answers whom, when, and in which version. */
    record Header(String sendingApplication, String sendingFacility, String receivingApplication,
                  String receivingFacility, String timestamp, String triggerEvent, String controlId,
                  String processingId, String version, String charsetField) {
    }

    /**
     * The ACK: MSH from {@code header}, MSA-1 {@code code} and MSA-2 {@code acknowledgedId}, and the
     * ERR (or MSA-3 + ERR-1 before v2.5) of {@code error}, laid out for {@code model}, the HL7 version
     * of the ACK class HAPI would fill. The error must be one whose {@code populateResponse} is HAPI's.
     */
    String build(Version model, Header header, AcknowledgmentCode code, String acknowledgedId, HL7Exception error) {
        boolean asOf25 = !Version.V25.isGreaterThan(model);
        out.setLength(0);

        startSegment("MSH");
        out.append("^~\\&").append('|'); // MSH-2 is written as it is, not escaped
        field(header.sendingApplication());
        field(header.sendingFacility());
        field(header.receivingApplication());
        field(header.receivingFacility());
        field(header.timestamp());
        emptyField(); // MSH-8
        startField();
        component("ACK");
        component(header.triggerEvent());
        if (asOf25) {
            component("ACK");
        }
        endField();
        field(header.controlId());
        field(header.processingId());
        field(header.version());
        for (int i = 13; i <= 17; i++) {
            emptyField();
        }
        field(header.charsetField());
        endSegment();

        ErrorCode errorCode = error == null ? null : error.getError();
        startSegment("MSA");
        field(code.name());
        field(acknowledgedId);
        if (error != null && !asOf25) {
            field(errorCode.getMessage()); // MSA-3, before v2.5
        }
        endSegment();

        if (error != null) {
            Location location = error.getLocation();
            startSegment("ERR");
            if (asOf25) {
                emptyField(); // ERR-1 (withdrawn)
                startField(); // ERR-2: error location
                if (location != null) {
                    component(location.getSegmentName());
                    component(location.getSegmentRepetition() > 0 ? Integer.toString(location.getSegmentRepetition()) : null);
                    component(location.getField() > 0 ? Integer.toString(location.getField()) : null);
                    component(location.getFieldRepetition() > 0 ? Integer.toString(location.getFieldRepetition()) : null);
                    component(location.getComponent() > 0 ? Integer.toString(location.getComponent()) : null);
                    component(location.getSubcomponent() > 0 ? Integer.toString(location.getSubcomponent()) : null);
                }
                endField();
                startField(); // ERR-3: HL7 error code (CWE), its text in component 9 (original text)
                component(Integer.toString(errorCode.getCode()));
                component(errorCode.getMessage());
                component(ErrorCode.codeTable());
                for (int i = 4; i <= 8; i++) {
                    component(null);
                }
                component(error.getMessage());
                endField();
                field("E"); // ERR-4: severity, always E in HAPI
            } else {
                startField(); // ERR-1 (ELD): segment, sequence (unset), field, code as CE in subcomponents
                component(location == null ? null : location.getSegmentName());
                component(null);
                component(location != null && location.getField() > 0 ? Integer.toString(location.getField()) : null);
                startComponent();
                subcomponent(Integer.toString(errorCode.getCode()));
                subcomponent(errorCode.getMessage());
                subcomponent(ErrorCode.codeTable());
                subcomponent(null);
                subcomponent(error.getMessage());
                endComponent();
                endField();
            }
            endSegment();
        }
        return out.toString();
    }

    // PipeParser.encode: each subcomponent is followed by '&', each component by '^', each field by
    // '|', and trailing separators are stripped at each level.

    private void startSegment(String name) {
        segmentStart = out.length();
        out.append(name).append('|');
    }

    private void endSegment() {
        strip('|', segmentStart);
        if (out.length() - segmentStart < 4) {
            out.setLength(segmentStart); // nothing but the name: PipeParser leaves it out
        } else {
            out.append('\r');
        }
    }

    private void field(String value) {
        startField();
        component(value);
        endField();
    }

    private void emptyField() {
        out.append('|');
    }

    private void startField() {
        fieldStart = out.length();
    }

    private void endField() {
        strip('^', fieldStart);
        out.append('|');
    }

    private void component(String value) {
        startComponent();
        subcomponent(value);
        endComponent();
    }

    private void startComponent() {
        componentStart = out.length();
    }

    private void endComponent() {
        strip('&', componentStart);
        out.append('^');
    }

    private void subcomponent(String value) {
        if (value != null) {
            appendEscaped(value);
        }
        out.append('&');
    }

    /** The value as HAPI's escaping writes it; the common case, nothing to escape, without calling it. */
    private void appendEscaped(String value) {
        for (int i = 0; i < value.length(); i++) {
            if (special(value.charAt(i))) {
                out.append(escaping.escape(value, STANDARD));
                return;
            }
        }
        out.append(value);
    }

    /**
     * The characters {@code DefaultEscaping} replaces with the standard delimiters: the five
     * delimiters, CR, and the truncation character, which for a four-character MSH-2 is NUL.
     */
    private static boolean special(char c) {
        return c == '|' || c == '^' || c == '~' || c == '\\' || c == '&' || c == '\r' || c == '\0';
    }

    private void strip(char separator, int from) {
        int end = out.length();
        while (end > from && out.charAt(end - 1) == separator) {
            end--;
        }
        out.setLength(end);
    }
}
