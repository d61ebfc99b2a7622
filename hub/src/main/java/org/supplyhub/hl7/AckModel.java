package org.supplyhub.hl7;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Version;
import ca.uhn.hl7v2.model.DataTypeException;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Primitive;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.parser.ModelClassFactory;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.PrimitiveTypeRule;
import ca.uhn.hl7v2.validation.ValidationContext;
import ca.uhn.hl7v2.validation.ValidationException;

import java.util.EnumMap;
import java.util.Map;

/**
 * What {@link AckBuilder} needs to know of one version's HAPI ACK class: whether it is v2.5 or later
 * (MSH-9-3, ERR-2..4 instead of MSA-3 + ERR-1) and, for each value HAPI sets, the primitive rules
 * its {@code setValue} applies: the "no validation" context still left-trims ST and FT values and
 * right-trims TX (an error text " x" is sent as "x"). Read once per version from an instance of the
 * ACK class itself, so a field's type is HAPI's, not a table kept here.
 */
final class AckModel {

    /** The values HAPI sets in an ACK: segment, field, component, subcomponent (1-based). */
    enum Slot {
        MSH_3("MSH", 3, 1, 1), MSH_4("MSH", 4, 1, 1), MSH_5("MSH", 5, 1, 1), MSH_6("MSH", 6, 1, 1),
        MSH_7("MSH", 7, 1, 1), MSH_9_1("MSH", 9, 1, 1), MSH_9_2("MSH", 9, 2, 1), MSH_9_3("MSH", 9, 3, 1),
        MSH_10("MSH", 10, 1, 1), MSH_11("MSH", 11, 1, 1), MSH_12("MSH", 12, 1, 1), MSH_18("MSH", 18, 1, 1),
        MSA_1("MSA", 1, 1, 1), MSA_2("MSA", 2, 1, 1), MSA_3("MSA", 3, 1, 1),
        // before v2.5: ERR-1 (ELD) segment, field, and the code as CE in subcomponents of component 4
        ERR_1_1("ERR", 1, 1, 1), ERR_1_3("ERR", 1, 3, 1), ERR_1_4_1("ERR", 1, 4, 1), ERR_1_4_2("ERR", 1, 4, 2),
        ERR_1_4_3("ERR", 1, 4, 3), ERR_1_4_5("ERR", 1, 4, 5),
        // v2.5 on: ERR-2 (ERL), ERR-3 (CWE) and ERR-4
        ERR_2_1("ERR", 2, 1, 1), ERR_2_2("ERR", 2, 2, 1), ERR_2_3("ERR", 2, 3, 1), ERR_2_4("ERR", 2, 4, 1),
        ERR_2_5("ERR", 2, 5, 1), ERR_2_6("ERR", 2, 6, 1), ERR_3_1("ERR", 3, 1, 1), ERR_3_2("ERR", 3, 2, 1),
        ERR_3_3("ERR", 3, 3, 1), ERR_3_9("ERR", 3, 9, 1), ERR_4("ERR", 4, 1, 1);

        final String segment;
        final int field;
        final int component;
        final int subcomponent;

        Slot(String segment, int field, int component, int subcomponent) {
            this.segment = segment;
            this.field = field;
            this.component = component;
            this.subcomponent = subcomponent;
        }

        boolean asOf25Only() {
            return segment.equals("ERR") && field >= 2;
        }

        boolean before25Only() {
            return this == MSA_3 || segment.equals("ERR") && field == 1;
        }
    }

    private static final PrimitiveTypeRule[] NONE = new PrimitiveTypeRule[0];

    final Version version;
    final boolean asOf25;
    private final Map<Slot, PrimitiveTypeRule[]> rules = new EnumMap<>(Slot.class);

    private AckModel(Version version, Map<Slot, PrimitiveTypeRule[]> rules) {
        this.version = version;
        this.asOf25 = !Version.V25.isGreaterThan(version);
        this.rules.putAll(rules);
    }

    /**
     * The model of {@code ackClass} (one of the standard ACK classes of {@code version}) as filled
     * under {@code validation}; the class is instantiated once, as HAPI instantiates it per ACK.
     */
    static AckModel of(Version version, Class<? extends Message> ackClass, ModelClassFactory factory,
                       ValidationContext validation) throws HL7Exception {
        Message ack;
        try {
            ack = ackClass.getConstructor(ModelClassFactory.class).newInstance(factory);
        } catch (ReflectiveOperationException e) {
            throw new HL7Exception("cannot instantiate " + ackClass.getName(), e);
        }
        boolean asOf25 = !Version.V25.isGreaterThan(version);
        Map<Slot, PrimitiveTypeRule[]> rules = new EnumMap<>(Slot.class);
        for (Slot slot : Slot.values()) {
            if (asOf25 ? slot.before25Only() : slot.asOf25Only()) {
                continue;
            }
            Segment segment = (Segment) ack.get(slot.segment);
            Primitive primitive = Terser.getPrimitive(segment.getField(slot.field, 0), slot.component, slot.subcomponent);
            rules.put(slot, validation.getPrimitiveRules(version.getVersion(), primitive.getName(), primitive)
                    .toArray(NONE));
        }
        return new AckModel(version, rules);
    }

    /** The value as HAPI's {@code setValue} stores it in this slot (corrected, or refused as it would be). */
    String set(Slot slot, String value) throws DataTypeException {
        PrimitiveTypeRule[] slotRules = rules.get(slot);
        for (PrimitiveTypeRule rule : slotRules) {
            value = rule.correct(value);
            ValidationException[] failures = rule.apply(value);
            if (failures.length > 0) {
                throw new DataTypeException(failures[0]);
            }
        }
        return value;
    }
}
