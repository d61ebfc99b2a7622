package org.supplyhub.delivery;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.DataTypeException;
import ca.uhn.hl7v2.model.Primitive;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.v251.message.DFT_P03;
import ca.uhn.hl7v2.parser.Escaping;
import ca.uhn.hl7v2.parser.ParserConfiguration;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.PrimitiveTypeRule;
import ca.uhn.hl7v2.validation.ValidationContext;
import ca.uhn.hl7v2.validation.ValidationException;
import ca.uhn.hl7v2.validation.builder.PredicatePrimitiveTypeRule;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.hl7.Er7Writer;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.mapping.Hl7Dates;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.SupplyUsage.Kind;
import org.supplyhub.mapping.SupplyUsage.Line;

import java.time.Clock;
import java.util.List;

/**
 * The billing DFT^P03 of {@link Payloads#billingDft} written straight as ER7: the same values, set
 * where that method sets them, each stored as HAPI's {@code setValue} stores it (the validation
 * context's primitive rules of that field's type: the hub's "no validation" context left-trims ST and
 * FT values and right-trims TX), laid out and escaped as {@code PipeParser.encode} does
 * ({@link Er7Writer}). MSH-7 and EVN-2 are {@code initQuickstart}'s timestamp, read from the clock.
 * Building the HAPI message, setting each field through {@code Terser} and encoding it was about 12 %
 * of the hub's CPU samples in the issue 16 profile: the Mercy sample's DFT took about 165 µs of
 * thread CPU that way and takes about 4 µs here (medians of 3 runs of 9 rounds of 2,000 after
 * warm-up, {@code BillingDftTiming}). Byte-for-byte equality with HAPI's encode of
 * {@code billingDft} is checked by {@code BillingDftTest}. Every ER7 billing destination (file, HTTP
 * and MLLP alike) is sent these bytes.
 */
final class BillingDft {

    /** The positions {@code billingDft} sets: segment, field, component, subcomponent (1-based). */
    enum Slot {
        MSH_3("MSH", 3, 1, 1), MSH_4("MSH", 4, 1, 1), MSH_5("MSH", 5, 1, 1), MSH_6("MSH", 6, 1, 1),
        MSH_7("MSH", 7, 1, 1), MSH_9_1("MSH", 9, 1, 1), MSH_9_2("MSH", 9, 2, 1), MSH_9_3("MSH", 9, 3, 1),
        MSH_10("MSH", 10, 1, 1), MSH_11("MSH", 11, 1, 1), MSH_12("MSH", 12, 1, 1), MSH_18("MSH", 18, 1, 1),
        EVN_1("EVN", 1, 1, 1), EVN_2("EVN", 2, 1, 1),
        PID_3_1("PID", 3, 1, 1), PID_3_4_1("PID", 3, 4, 1), PID_3_4_2("PID", 3, 4, 2), PID_3_4_3("PID", 3, 4, 3),
        PID_3_5("PID", 3, 5, 1), PID_18("PID", 18, 1, 1),
        PV1_19("PV1", 19, 1, 1),
        FT1_1("FT1", 1, 1, 1), FT1_2("FT1", 2, 1, 1), FT1_4("FT1", 4, 1, 1), FT1_5("FT1", 5, 1, 1),
        FT1_6("FT1", 6, 1, 1), FT1_7_1("FT1", 7, 1, 1), FT1_7_2("FT1", 7, 2, 1), FT1_7_3("FT1", 7, 3, 1),
        FT1_7_4("FT1", 7, 4, 1), FT1_7_6("FT1", 7, 6, 1), FT1_10("FT1", 10, 1, 1),
        FT1_11_1_1("FT1", 11, 1, 1), FT1_11_1_2("FT1", 11, 1, 2), FT1_12_1_1("FT1", 12, 1, 1),
        FT1_12_1_2("FT1", 12, 1, 2), FT1_13("FT1", 13, 1, 1), FT1_19_1("FT1", 19, 1, 1),
        FT1_19_2("FT1", 19, 2, 1), FT1_19_3("FT1", 19, 3, 1), FT1_20("FT1", 20, 1, 1), FT1_24("FT1", 24, 1, 1),
        FT1_25("FT1", 25, 1, 1), FT1_26("FT1", 26, 1, 1), FT1_29_1("FT1", 29, 1, 1), FT1_29_2("FT1", 29, 2, 1),
        FT1_29_3("FT1", 29, 3, 1), FT1_31("FT1", 31, 1, 1),
        // beyond v2.5.1's FT1: HAPI adds them as extra fields of unknown type
        FT1_32("FT1", 32, 1, 1), FT1_33("FT1", 33, 1, 1),
        NTE_1("NTE", 1, 1, 1), NTE_3("NTE", 3, 1, 1);

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
    }

    /** What {@code setValue} does to a value in one slot: HAPI's rules, and whether they only trim. */
    private record Rules(PrimitiveTypeRule[] rules, boolean trimOnly) {

        String apply(String value) throws DataTypeException {
            if (rules.length == 0) {
                return value;
            }
            if (trimOnly && (value == null || value.isEmpty()
                    || value.charAt(0) > ' ' && value.charAt(value.length() - 1) > ' ')) {
                return value; // every trimmer (\s, or String.trim) leaves such a value as it is
            }
            for (PrimitiveTypeRule rule : rules) {
                value = rule.correct(value);
                ValidationException[] failures = rule.apply(value);
                if (failures.length > 0) {
                    throw new DataTypeException(failures[0]);
                }
            }
            return value;
        }
    }

    private static final PrimitiveTypeRule[] NONE = new PrimitiveTypeRule[0];

    private final Clock clock;
    private final Escaping escaping;
    private final Rules[] rules = new Rules[Slot.values().length];
    private final String structure;
    private final String version;
    /** Null when HAPI's encoding can be written here; else why not (every DFT is then HAPI's). */
    private final String unmatched;

    /**
     * Reads each slot's type from a DFT_P03 made by {@code hl7} (as {@code billingDft} makes it)
     * and the rules its validation context has for that type.
     */
    BillingDft(Hl7Support hl7, Clock clock) throws HL7Exception {
        this.clock = clock;
        DFT_P03 prototype = hl7.newMessage(DFT_P03.class);
        ValidationContext validation = prototype.getParser().getValidationContext();
        version = prototype.getVersion();
        String className = DFT_P03.class.getSimpleName();
        structure = className.matches("[A-Z]{3}_[A-Z0-9]{3}") ? className : null; // as initQuickstart
        for (Slot slot : Slot.values()) {
            Segment segment = switch (slot.segment) {
                case "FT1" -> prototype.getFINANCIAL(0).getFT1();
                case "NTE" -> prototype.getFINANCIAL(0).getNTE();
                default -> (Segment) prototype.get(slot.segment);
            };
            Primitive primitive = Terser.getPrimitive(segment.getField(slot.field, 0), slot.component, slot.subcomponent);
            PrimitiveTypeRule[] slotRules = validation == null ? NONE
                    : validation.getPrimitiveRules(version, primitive.getName(), primitive).toArray(NONE);
            boolean trimOnly = true;
            for (PrimitiveTypeRule rule : slotRules) {
                trimOnly &= trimsOnly(rule);
            }
            rules[slot.ordinal()] = new Rules(slotRules, trimOnly);
        }
        ParserConfiguration config = prototype.getParser().getParserConfiguration();
        escaping = config.getEscaping(); // the one Hl7Support's parsers encode with: the context's
        unmatched = !config.getForcedEncode().isEmpty() ? "forced encoding of empty fields or segments configured"
                : !"2.5.1".equals(version) ? "DFT_P03 model of version " + version : null;
    }

    /**
     * A rule built by {@code leftTrim()}, {@code rightTrim()} or {@code allTrim()} with no condition:
     * it changes nothing but whitespace (characters up to ' ') at the ends, and never fails.
     */
    private static boolean trimsOnly(PrimitiveTypeRule rule) {
        return rule.getClass() == PredicatePrimitiveTypeRule.class
                && ((PredicatePrimitiveTypeRule) rule).getPredicate().getClass().getName()
                .equals("ca.uhn.hl7v2.validation.builder.BuilderSupport$AlwaysPredicate")
                && ((PredicatePrimitiveTypeRule) rule).test("x");
    }

    /** Null when {@link #compose} writes what HAPI would; else the reason HAPI must. */
    String unmatched() {
        return unmatched;
    }

    private String v(Slot slot, String value) throws DataTypeException {
        return rules[slot.ordinal()].apply(value);
    }

    /** {@code hl7.encode(billingDft(d, outboxId, usage, lines))}, with MSH-7 from the clock. */
    String compose(DestinationDefinition d, long outboxId, SupplyUsage usage, List<Line> lines) throws HL7Exception {
        Er7Writer w = new Er7Writer(escaping, 256 + 320 * lines.size());
        String timestamp = v(Slot.MSH_7, Er7Writer.timestamp(clock));

        // MSH: initQuickstart's fields, then billingDft's
        DestinationDefinition.Hl7Receiver receiver = d.receiver();
        w.startHeader()
                .field(v(Slot.MSH_3, "SUPPLYHUB"))
                .field(v(Slot.MSH_4, "HUB"))
                .field(v(Slot.MSH_5, receiver != null && receiver.application() != null ? receiver.application() : d.name()));
        if (receiver != null && receiver.facility() != null) {
            w.field(v(Slot.MSH_6, receiver.facility()));
        } else {
            w.emptyField();
        }
        w.field(timestamp).emptyField()
                .startField().component(v(Slot.MSH_9_1, "DFT")).component(v(Slot.MSH_9_2, "P03"));
        if (structure != null) {
            w.component(v(Slot.MSH_9_3, structure));
        }
        w.endField()
                .field(v(Slot.MSH_10, "SH" + outboxId))
                .field(v(Slot.MSH_11, "P"))
                .field(v(Slot.MSH_12, version))
                .skipTo(12, 18)
                .field(v(Slot.MSH_18, "UNICODE UTF-8"))
                .endSegment();

        w.startSegment("EVN").field(v(Slot.EVN_1, "P03")).field(v(Slot.EVN_2, timestamp)).endSegment();

        String patient = v(Slot.PID_3_1, usage.patient().value());
        SupplyUsage.Assigner authority = usage.patientAuthority();
        w.startSegment("PID").skipTo(0, 3).startField().component(patient).emptyComponent().emptyComponent()
                .startComponent();
        if (authority != null) {
            w.subcomponent(authority.namespace() == null ? null : v(Slot.PID_3_4_1, authority.namespace()))
                    .subcomponent(authority.universalId() == null ? null : v(Slot.PID_3_4_2, authority.universalId()))
                    .subcomponent(authority.universalIdType() == null ? null
                            : v(Slot.PID_3_4_3, authority.universalIdType()));
        }
        w.endComponent();
        if (usage.patientIdType() != null) {
            w.component(v(Slot.PID_3_5, usage.patientIdType()));
        }
        w.endField();
        if (usage.account() != null) {
            w.skipTo(3, 18).field(v(Slot.PID_18, usage.account().value()));
        }
        w.endSegment();

        w.startSegment("PV1");
        if (usage.encounter() != null) {
            w.skipTo(0, 19).field(v(Slot.PV1_19, usage.encounter().value()));
        }
        w.endSegment();

        for (int i = 0; i < lines.size(); i++) {
            ft1(w, i, lines.get(i));
        }
        return w.toString();
    }

    /** One FT1 and, with notes, its NTE: billingDft's values in field order. */
    private void ft1(Er7Writer w, int i, Line line) throws DataTypeException {
        SupplyUsage.Item item = line.master(); // null for a service the item master does not know
        w.startSegment("FT1")
                .field(v(Slot.FT1_1, String.valueOf(i + 1)))
                .field(v(Slot.FT1_2, line.transactionId()))
                .emptyField();
        String serviceDate = line.serviceDate() == null ? null
                : v(Slot.FT1_4, Hl7Dates.format(line.serviceDate(), line.serviceDatePrecision()));
        String enteredDate = line.enteredDate() == null ? null
                : v(Slot.FT1_5, Hl7Dates.format(line.enteredDate(), line.enteredDatePrecision()));
        w.field(serviceDate).field(enteredDate).field(v(Slot.FT1_6, line.kind() == Kind.CREDIT ? "CD" : "CG"));

        String code;
        String text;
        String system;
        if (item != null) {
            code = item.chargeCode() != null ? item.chargeCode() : line.item().value();
            text = item.description();
            system = "CDM";
        } else { // billed as sent: the line's code, text and coding system
            code = line.item().value();
            text = line.itemText();
            system = Payloads.codingSystemName(line.item().system() != null ? line.item().system() : line.itemSystemUri());
        }
        w.startField().component(v(Slot.FT1_7_1, code)).component(v(Slot.FT1_7_2, text))
                .component(v(Slot.FT1_7_3, system));
        if (item != null && item.hcpcs() != null) {
            w.component(v(Slot.FT1_7_4, item.hcpcs())).emptyComponent().component(v(Slot.FT1_7_6, "HCPCS"));
        }
        w.endField().skipTo(7, 10).field(v(Slot.FT1_10, line.quantity().abs().toPlainString()));

        w.startField();
        if (line.extendedPrice() != null) {
            w.startComponent().subcomponent(v(Slot.FT1_11_1_1, line.extendedPrice().abs().toPlainString()))
                    .subcomponent(v(Slot.FT1_11_1_2, line.currency())).endComponent();
        }
        w.endField().startField();
        if (line.unitPrice() != null) {
            w.startComponent().subcomponent(v(Slot.FT1_12_1_1, line.unitPrice().toPlainString()))
                    .subcomponent(v(Slot.FT1_12_1_2, line.currency())).endComponent();
        }
        w.endField();
        w.field(line.costCenter() == null ? null : v(Slot.FT1_13, line.costCenter().value())).skipTo(13, 19);

        w.startField();
        List<SupplyUsage.Coding> reasons = line.reasons();
        for (int r = 0; r < reasons.size(); r++) {
            SupplyUsage.Coding reason = reasons.get(r);
            if (r > 0) {
                w.nextRepetition();
            }
            w.component(v(Slot.FT1_19_1, reason.code())).component(v(Slot.FT1_19_2, reason.display()))
                    .component(v(Slot.FT1_19_3, Payloads.codingSystemName(reason.system())));
        }
        w.endField();
        w.field(line.performer() == null ? null : v(Slot.FT1_20, line.performer().value())).skipTo(20, 24)
                .field(line.enterer() == null ? null : v(Slot.FT1_24, line.enterer().value()))
                .field(line.procedure() == null ? null : v(Slot.FT1_25, line.procedure().value()))
                .field(item == null || item.revenueCode() == null ? null : v(Slot.FT1_26, item.revenueCode()))
                .skipTo(26, 29)
                .startField();
        if (line.ndc() != null) {
            w.component(v(Slot.FT1_29_1, line.ndc().code())).component(v(Slot.FT1_29_2, line.ndc().display()))
                    .component(v(Slot.FT1_29_3, "NDC"));
        }
        w.endField().emptyField()
                .field(line.kind() == Kind.CREDIT && line.originalTransactionId() != null
                        ? v(Slot.FT1_31, line.originalTransactionId()) : null)
                .field(line.performingOrganization() == null ? null
                        : v(Slot.FT1_32, line.performingOrganization().value()))
                .field(line.orderingOrganization() == null ? null
                        : v(Slot.FT1_33, line.orderingOrganization().value()))
                .endSegment();

        List<String> notes = line.notes();
        if (!notes.isEmpty()) {
            w.startSegment("NTE").field(v(Slot.NTE_1, "1")).emptyField().startField();
            for (int n = 0; n < notes.size(); n++) {
                if (n > 0) {
                    w.nextRepetition();
                }
                w.component(v(Slot.NTE_3, notes.get(n)));
            }
            w.endField().endSegment();
        }
    }
}
