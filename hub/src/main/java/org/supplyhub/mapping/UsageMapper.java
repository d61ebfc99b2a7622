package org.supplyhub.mapping;

import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Structure;
import org.supplyhub.mapping.MappingProfile.LineFields;
import org.supplyhub.mapping.SupplyUsage.Implant;
import org.supplyhub.mapping.SupplyUsage.Item;
import org.supplyhub.mapping.SupplyUsage.Kind;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.mapping.SupplyUsage.Ref;
import org.supplyhub.mapping.udi.Udi;
import org.supplyhub.mapping.udi.UdiException;
import org.supplyhub.mapping.udi.UdiParser;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Maps a parsed HL7 message to canonical {@link SupplyUsage} as one interface's profile says.
 * Thread-safe: holds only the immutable profile and crosswalk.
 */
public final class UsageMapper {

    private final String interfaceId;
    private final MappingProfile profile;
    private final ItemMaster itemMaster;
    private final ZoneId zone;

    UsageMapper(String interfaceId, MappingProfile profile, ItemMaster itemMaster) {
        this.interfaceId = interfaceId;
        this.profile = profile;
        this.itemMaster = itemMaster;
        this.zone = profile.timezone() == null ? ZoneId.systemDefault() : profile.timezone();
    }

    public MappingProfile profile() {
        return profile;
    }

    public ItemMaster itemMaster() {
        return itemMaster;
    }

    /** True if this profile maps messages of that type (MSH-9-1^MSH-9-2). */
    public boolean accepts(String messageType) {
        return profile.accept().messageTypes().contains(messageType);
    }

    public SupplyUsage map(Message message, String sender, String controlId, String messageType) {
        Group terser = (Group) message;
        MappingProfile.Systems systems = profile.systems();
        MappingProfile.MessageFields fields = profile.message();

        String patientId = value(terser, fields.patient(), 0);
        if (patientId == null) {
            throw new MappingException(fields.patient().describe(), 0, ErrorCode.REQUIRED_FIELD_MISSING,
                    fields.patient().describe() + ": patient identifier is missing");
        }
        Ref patient = Ref.of(systems.patient(), patientId);
        Ref account = Ref.of(systems.account(), value(terser, fields.account(), 0));
        Ref encounter = Ref.of(systems.encounter(), value(terser, fields.encounter(), 0));

        LineFields lf = profile.line();
        Structure[] groups;
        try {
            groups = ((Group) message).getAll(lf.group());
        } catch (HL7Exception e) {
            throw new MappingException(lf.group(), 0, ErrorCode.SEGMENT_SEQUENCE_ERROR,
                    "the message has no " + lf.group() + " group");
        }
        List<Line> lines = new ArrayList<>(groups.length);
        for (int i = 0; i < groups.length; i++) {
            lines.add(mapLine((Group) groups[i], i + 1, lf));
        }
        if (lines.isEmpty()) {
            throw new MappingException(lf.item().code().describe(), 0, ErrorCode.REQUIRED_FIELD_MISSING,
                    "the message has no usage lines");
        }
        return new SupplyUsage(interfaceId, sender, controlId, messageType, patient, account, encounter, lines);
    }

    private Line mapLine(Group t, int index, LineFields lf) {
        MappingProfile.Systems systems = profile.systems();
        String transactionId = required(t, lf.transactionId(), index, "transaction id");
        String itemCode = required(t, lf.item().code(), index, "item code");
        String itemSystem = value(t, lf.item().system(), index);
        String sourceCode = matchKey(itemSystem, itemCode);
        Item master = itemMaster.find(sourceCode).orElseThrow(() -> new MappingException(
                lf.item().code().describe(), index, ErrorCode.TABLE_VALUE_NOT_FOUND,
                lf.item().code().describe() + " (line " + index + "): item '" + sourceCode + "' is not in the item master"));

        BigDecimal quantity = decimal(t, lf.quantity(), index, true);
        if (quantity.signum() == 0) {
            throw new MappingException(lf.quantity().describe(), index, ErrorCode.DATA_TYPE_ERROR,
                    lf.quantity().describe() + " (line " + index + "): quantity is zero");
        }
        Kind kind = Kind.CHARGE;
        String kindValue = value(t, lf.kind(), index);
        if (kindValue != null) {
            if (!kindValue.equals("charge") && !kindValue.equals("credit")) {
                throw new MappingException(lf.kind().describe(), index, ErrorCode.TABLE_VALUE_NOT_FOUND,
                        lf.kind().describe() + " (line " + index + "): transaction type '" + kindValue
                                + "' is neither a charge nor a credit in this profile");
            }
            kind = kindValue.equals("credit") ? Kind.CREDIT : Kind.CHARGE;
        }
        if (quantity.signum() < 0) {
            kind = Kind.CREDIT; // a negative quantity is a credit whatever FT1-6 says
        }
        // Canonical quantities are signed: usage positive, credits (returns) negative.
        BigDecimal signedQuantity = kind == Kind.CREDIT ? quantity.abs().negate() : quantity.abs();

        BigDecimal unitPrice = decimal(t, lf.unitPrice(), index, false);
        if (unitPrice == null) {
            unitPrice = master.unitPrice();
        }
        BigDecimal extended = decimal(t, lf.extendedPrice(), index, false);
        if (extended == null && unitPrice != null) {
            extended = unitPrice.multiply(quantity.abs());
        }
        if (extended != null) {
            extended = kind == Kind.CREDIT ? extended.abs().negate() : extended.abs();
        }

        Implant implant = implant(t, index, lf.implant(), master);
        return new Line(index, transactionId, kind,
                dateTime(t, lf.serviceDate(), index),
                Ref.of(itemSystem, itemCode),
                value(t, lf.item().text(), index),
                master, signedQuantity, unitPrice, extended,
                Objects.requireNonNullElse(value(t, lf.currency(), index), "USD"),
                Ref.of(systems.costCenter(), value(t, lf.department(), index)),
                Ref.of(systems.location(), value(t, lf.location(), index)),
                Ref.of(systems.practitioner(), value(t, lf.performer(), index)),
                Ref.of(systems.procedure(), value(t, lf.procedure(), index)),
                value(t, lf.originalTransactionId(), index),
                implant);
    }

    private Implant implant(Group t, int index, MappingProfile.Implant rules, Item master) {
        if (rules == null) {
            return null;
        }
        String hrf = value(t, rules.udi(), index);
        String di = value(t, rules.deviceIdentifier(), index);
        String lot = value(t, rules.lot(), index);
        String serial = value(t, rules.serial(), index);
        LocalDate expiry = date(t, rules.expiry(), index);
        LocalDate manufactured = date(t, rules.manufactureDate(), index);
        if (hrf == null && di == null && lot == null && serial == null) {
            return null; // not an implant line
        }
        String issuer = null;
        if (hrf != null) {
            Udi udi;
            try {
                udi = UdiParser.parse(hrf);
            } catch (UdiException e) {
                throw new MappingException(rules.udi().describe(), index, ErrorCode.DATA_TYPE_ERROR,
                        rules.udi().describe() + " (line " + index + "): bad UDI: " + e.getMessage());
            }
            issuer = udi.issuer().fhirSystem();
            di = agree(rules.deviceIdentifier(), index, "device identifier", di, udi.deviceIdentifier());
            lot = agree(rules.lot(), index, "lot", lot, udi.lot());
            serial = agree(rules.serial(), index, "serial", serial, udi.serial());
            expiry = agree(rules.expiry(), index, "expiry", expiry, udi.expiry());
            manufactured = agree(rules.manufactureDate(), index, "manufacture date", manufactured, udi.manufactured());
        }
        if (di != null && master.gtin() != null && di.length() == 14 && di.chars().allMatch(Character::isDigit)
                && !di.equals(master.gtin())) {
            String path = rules.udi() != null ? rules.udi().describe() : rules.deviceIdentifier().describe();
            throw new MappingException(path, index, ErrorCode.DATA_TYPE_ERROR, path + " (line " + index
                    + "): device identifier " + di + " does not match the item master GTIN " + master.gtin()
                    + " of item " + master.itemId());
        }
        return new Implant(hrf, issuer, di, lot, serial, expiry, manufactured,
                Objects.requireNonNullElse(value(t, rules.manufacturer(), index), master.manufacturer()),
                Objects.requireNonNullElse(value(t, rules.catalogNumber(), index), master.catalogNumber()),
                value(t, rules.model(), index),
                value(t, rules.bodySite(), index));
    }

    /** A field sent both inside the UDI and on its own must say the same thing. */
    private static <T> T agree(FieldRule rule, int index, String what, T separate, T fromUdi) {
        if (separate != null && fromUdi != null && !separate.equals(fromUdi)) {
            throw new MappingException(rule.describe(), index, ErrorCode.DATA_TYPE_ERROR,
                    rule.describe() + " (line " + index + "): " + what + " differs from the one in the UDI");
        }
        return separate != null ? separate : fromUdi;
    }

    private String matchKey(String system, String code) {
        String pattern = profile.itemMaster().match() == null ? "{item.system}|{item.code}" : profile.itemMaster().match();
        return pattern.replace("{item.system}", system == null ? "" : system).replace("{item.code}", code);
    }

    private String required(Group t, FieldRule rule, int index, String what) {
        String v = value(t, rule, index);
        if (v == null) {
            throw new MappingException(rule.describe(), index, ErrorCode.REQUIRED_FIELD_MISSING,
                    rule.describe() + " (line " + index + "): " + what + " is missing");
        }
        return v;
    }

    private BigDecimal decimal(Group t, FieldRule rule, int index, boolean required) {
        String v = required ? required(t, rule, index, "number") : value(t, rule, index);
        if (v == null) {
            return null;
        }
        try {
            return new BigDecimal(v.trim());
        } catch (NumberFormatException e) {
            throw new MappingException(rule.describe(), index, ErrorCode.DATA_TYPE_ERROR,
                    rule.describe() + " (line " + index + "): '" + v + "' is not a number");
        }
    }

    private LocalDate date(Group t, FieldRule rule, int index) {
        String v = value(t, rule, index);
        if (v == null) {
            return null;
        }
        try {
            return Hl7Dates.date(v);
        } catch (IllegalArgumentException e) {
            throw new MappingException(rule.describe(), index, ErrorCode.DATA_TYPE_ERROR,
                    rule.describe() + " (line " + index + "): '" + v + "' is not an HL7 date");
        }
    }

    private OffsetDateTime dateTime(Group t, FieldRule rule, int index) {
        String v = value(t, rule, index);
        if (v == null) {
            return null;
        }
        try {
            return Hl7Dates.dateTime(v, zone);
        } catch (IllegalArgumentException e) {
            throw new MappingException(rule.describe(), index, ErrorCode.DATA_TYPE_ERROR,
                    rule.describe() + " (line " + index + "): '" + v + "' is not an HL7 date/time");
        }
    }

    /** Reads a rule's value: joined paths, value map, default. Absent optional segments read as null. */
    private static String value(Group root, FieldRule rule, int index) {
        if (rule == null) {
            return null;
        }
        String raw;
        List<Hl7Path> paths = rule.compiled();
        if (paths.size() == 1) {
            raw = paths.get(0).read(root);
        } else {
            StringBuilder joined = new StringBuilder();
            for (Hl7Path path : paths) {
                String part = path.read(root);
                if (part != null) {
                    if (!joined.isEmpty()) {
                        joined.append(rule.separator());
                    }
                    joined.append(part);
                }
            }
            raw = joined.isEmpty() ? null : joined.toString();
        }
        if (raw != null && rule.map() != null) {
            String mapped = rule.map().get(raw);
            if (mapped == null && !rule.map().containsKey("*")) {
                return raw; // unmapped values pass through; callers check what they need
            }
            raw = mapped != null ? mapped : rule.map().get("*");
        }
        if (raw == null) {
            raw = rule.defaultValue();
        }
        if (raw == null && rule.required()) {
            throw new MappingException(rule.describe(), index, ErrorCode.REQUIRED_FIELD_MISSING,
                    rule.describe() + (index > 0 ? " (line " + index + ")" : "") + ": is required and missing");
        }
        return raw;
    }
}
