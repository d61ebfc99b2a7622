package org.supplyhub.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Location;
import ca.uhn.hl7v2.model.DataTypeException;
import org.supplyhub.hl7.AckModel.Slot;
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
 * <p>The ACK's model (its version decides MSH-9-3 and the ERR layout; its field types which values
 * HAPI trims) is the ACK class HAPI would instantiate; the caller resolves it (see {@link Hl7Support}).
 */
final class AckBuilder {

    /** The delimiters every ACK the hub writes uses, whatever the sender's. */
    static final EncodingCharacters STANDARD = Er7Writer.STANDARD;

    private final Escaping escaping;
    private AckModel model;
    private Er7Writer out;

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
     * ERR (or MSA-3 + ERR-1 before v2.5) of {@code error}, laid out for {@code model}, the ACK class
     * HAPI would fill. The error must be one whose {@code populateResponse} is HAPI's. Each value goes
     * through the model's primitive rules, as {@code setValue} does, and only where HAPI sets one.
     */
    String build(AckModel model, Header header, AcknowledgmentCode code, String acknowledgedId, HL7Exception error)
            throws DataTypeException {
        this.model = model;
        boolean asOf25 = model.asOf25;
        out = new Er7Writer(escaping, 256);

        out.startHeader(); // MSH-2 is written as it is, not escaped
        field(Slot.MSH_3, header.sendingApplication());
        field(Slot.MSH_4, header.sendingFacility());
        field(Slot.MSH_5, header.receivingApplication());
        field(Slot.MSH_6, header.receivingFacility());
        field(Slot.MSH_7, header.timestamp());
        emptyField(); // MSH-8
        startField();
        component(Slot.MSH_9_1, "ACK");
        component(Slot.MSH_9_2, header.triggerEvent());
        if (asOf25) {
            component(Slot.MSH_9_3, "ACK");
        }
        endField();
        field(Slot.MSH_10, header.controlId());
        field(Slot.MSH_11, header.processingId());
        field(Slot.MSH_12, header.version());
        for (int i = 13; i <= 17; i++) {
            emptyField();
        }
        if (header.charsetField() != null) {
            field(Slot.MSH_18, header.charsetField());
        }
        endSegment();

        ErrorCode errorCode = error == null ? null : error.getError();
        startSegment("MSA");
        field(Slot.MSA_1, code.name());
        field(Slot.MSA_2, acknowledgedId);
        if (error != null && !asOf25) {
            field(Slot.MSA_3, errorCode.getMessage());
        }
        endSegment();

        if (error != null) {
            Location location = error.getLocation();
            startSegment("ERR");
            if (asOf25) {
                emptyField(); // ERR-1 (withdrawn)
                startField(); // ERR-2: error location
                if (location != null) {
                    component(location.getSegmentName() != null ? Slot.ERR_2_1 : null, location.getSegmentName());
                    number(Slot.ERR_2_2, location.getSegmentRepetition());
                    number(Slot.ERR_2_3, location.getField());
                    number(Slot.ERR_2_4, location.getFieldRepetition());
                    number(Slot.ERR_2_5, location.getComponent());
                    number(Slot.ERR_2_6, location.getSubcomponent());
                }
                endField();
                startField(); // ERR-3: HL7 error code (CWE), its text in component 9 (original text)
                component(Slot.ERR_3_1, Integer.toString(errorCode.getCode()));
                component(Slot.ERR_3_2, errorCode.getMessage());
                component(Slot.ERR_3_3, ErrorCode.codeTable());
                for (int i = 4; i <= 8; i++) {
                    component(null, null);
                }
                component(Slot.ERR_3_9, error.getMessage());
                endField();
                field(Slot.ERR_4, "E"); // ERR-4: severity, always E in HAPI
            } else {
                startField(); // ERR-1 (ELD): segment, sequence (unset), field, code as CE in subcomponents
                component(location != null && location.getSegmentName() != null ? Slot.ERR_1_1 : null,
                        location == null ? null : location.getSegmentName());
                component(null, null);
                if (location != null && location.getField() > 0) {
                    component(Slot.ERR_1_3, Integer.toString(location.getField()));
                } else {
                    component(null, null);
                }
                startComponent();
                subcomponent(Slot.ERR_1_4_1, Integer.toString(errorCode.getCode()));
                subcomponent(Slot.ERR_1_4_2, errorCode.getMessage());
                subcomponent(Slot.ERR_1_4_3, ErrorCode.codeTable());
                subcomponent(null, null);
                subcomponent(Slot.ERR_1_4_5, error.getMessage());
                endComponent();
                endField();
            }
            endSegment();
        }
        return out.toString();
    }

    /** A location number HAPI sets only when positive. */
    private void number(Slot slot, int value) throws DataTypeException {
        if (value > 0) {
            component(slot, Integer.toString(value));
        } else {
            component(null, null);
        }
    }

    // PipeParser.encode's layout is Er7Writer's; here each value goes through the model's rules first

    private void startSegment(String name) {
        out.startSegment(name);
    }

    private void endSegment() {
        out.endSegment();
    }

    private void field(Slot slot, String value) throws DataTypeException {
        startField();
        component(slot, value);
        endField();
    }

    private void emptyField() {
        out.emptyField();
    }

    private void startField() {
        out.startField();
    }

    private void endField() {
        out.endField();
    }

    private void component(Slot slot, String value) throws DataTypeException {
        startComponent();
        subcomponent(slot, value);
        endComponent();
    }

    private void startComponent() {
        out.startComponent();
    }

    private void endComponent() {
        out.endComponent();
    }

    /** A value HAPI sets in {@code slot} (null: a position HAPI leaves alone). */
    private void subcomponent(Slot slot, String value) throws DataTypeException {
        out.subcomponent(slot == null ? value : model.set(slot, value));
    }
}
