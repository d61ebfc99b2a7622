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
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import static org.supplyhub.mapping.FieldChecks.CODE_MAX;
import static org.supplyhub.mapping.FieldChecks.ID_MAX;
import static org.supplyhub.mapping.FieldChecks.TEXT_MAX;

/**
 * Maps a parsed HL7 message to canonical {@link SupplyUsage} as one interface's profile says.
 * Thread-safe: holds only the immutable profile and crosswalk.
 */
public final class UsageMapper {

    private final String interfaceId;
    private final MappingProfile profile;
    private final ItemMaster itemMaster;
    private final ZoneId zone;
    /** CX-4's namespace, universal id and its type, when the profile names the patient's authority. */
    private final Hl7Path[] authorityPaths;

    UsageMapper(String interfaceId, MappingProfile profile, ItemMaster itemMaster) {
        this.interfaceId = interfaceId;
        this.profile = profile;
        this.itemMaster = itemMaster;
        this.zone = profile.timezone() == null ? ZoneId.systemDefault() : profile.timezone();
        FieldRule authority = profile.message().patientAuthority();
        Hl7Path hd = authority == null || authority.compiled().size() != 1 ? null : authority.compiled().get(0);
        this.authorityPaths = hd == null ? null : new Hl7Path[] {hd, hd.withSubcomponent(2), hd.withSubcomponent(3)};
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

        String patientId = FieldChecks.text(value(terser, fields.patient(), 0), ID_MAX, fields.patient(), 0,
                "patient identifier");
        if (patientId == null) {
            throw new MappingException(fields.patient().describe(), 0, ErrorCode.REQUIRED_FIELD_MISSING,
                    fields.patient().describe() + ": patient identifier is missing");
        }
        Ref patient = Ref.of(systems.patient(), patientId);
        SupplyUsage.Assigner authority = null;
        if (authorityPaths != null) {
            FieldRule rule = fields.patientAuthority();
            authority = SupplyUsage.Assigner.of(
                    FieldChecks.text(authorityPaths[0].read(terser), ID_MAX, rule, 0, "assigning authority"),
                    FieldChecks.text(authorityPaths[1].read(terser), ID_MAX, rule, 0, "assigning authority"),
                    FieldChecks.text(authorityPaths[2].read(terser), ID_MAX, rule, 0, "assigning authority"));
        }
        String idType = FieldChecks.code(value(terser, fields.patientIdType(), 0), CODE_MAX, fields.patientIdType(), 0,
                "identifier type");
        Ref account = Ref.of(systems.account(),
                FieldChecks.text(value(terser, fields.account(), 0), ID_MAX, fields.account(), 0, "account"));
        Ref encounter = Ref.of(systems.encounter(),
                FieldChecks.text(value(terser, fields.encounter(), 0), ID_MAX, fields.encounter(), 0, "encounter"));

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
        return new SupplyUsage(interfaceId, sender, controlId, messageType, patient, authority, idType, account,
                encounter, lines, List.of());
    }

    private Line mapLine(Group t, int index, LineFields lf) {
        MappingProfile.Systems systems = profile.systems();
        String transactionId = FieldChecks.text(required(t, lf.transactionId(), index, "transaction id"), ID_MAX,
                lf.transactionId(), index, "transaction id");
        String itemCode = FieldChecks.code(required(t, lf.item().code(), index, "item code"), CODE_MAX,
                lf.item().code(), index, "item code");
        String itemSystem = FieldChecks.text(value(t, lf.item().system(), index), ID_MAX, lf.item().system(), index,
                "item coding system");
        String sourceCode = matchKey(itemSystem, itemCode);
        Item master = itemMaster.find(sourceCode).orElseThrow(() -> new MappingException(
                lf.item().code().describe(), index, ErrorCode.TABLE_VALUE_NOT_FOUND,
                lf.item().code().describe() + " (line " + index + "): item '" + sourceCode + "' is not in the item master"));

        BigDecimal quantity = FieldChecks.number(required(t, lf.quantity(), index, "quantity"),
                FieldChecks.QUANTITY_DIGITS, lf.quantity(), index, "quantity");
        if (quantity.signum() == 0) {
            throw new MappingException(lf.quantity().describe(), index, ErrorCode.DATA_TYPE_ERROR,
                    lf.quantity().describe() + " (line " + index + "): quantity is zero");
        }
        Kind kind = Kind.CHARGE;
        String kindValue = value(t, lf.kind(), index);
        if (kindValue != null) {
            if (!kindValue.equals("charge") && !kindValue.equals("credit")) {
                throw new MappingException(lf.kind().describe(), index, ErrorCode.TABLE_VALUE_NOT_FOUND,
                        lf.kind().describe() + " (line " + index + "): transaction type "
                                + (kindValue.length() <= 8 ? "'" + kindValue + "' " : "")
                                + "is neither a charge nor a credit in this profile");
            }
            kind = kindValue.equals("credit") ? Kind.CREDIT : Kind.CHARGE;
        }
        if (quantity.signum() < 0) {
            kind = Kind.CREDIT; // a negative quantity is a credit whatever FT1-6 says
        }
        // Canonical quantities are signed: usage positive, credits (returns) negative.
        BigDecimal signedQuantity = kind == Kind.CREDIT ? quantity.abs().negate() : quantity.abs();

        BigDecimal unitPrice = FieldChecks.number(value(t, lf.unitPrice(), index), FieldChecks.AMOUNT_DIGITS,
                lf.unitPrice(), index, "unit price");
        // a computed amount out of range is the sent unit price's fault, else the quantity's
        FieldRule computedFrom = unitPrice != null ? lf.unitPrice() : lf.quantity();
        if (unitPrice == null) {
            unitPrice = master.unitPrice();
        }
        BigDecimal extended = FieldChecks.number(value(t, lf.extendedPrice(), index), FieldChecks.AMOUNT_DIGITS,
                lf.extendedPrice(), index, "extended price");
        if (extended == null && unitPrice != null) {
            extended = unitPrice.multiply(quantity.abs());
            if (extended.scale() > FieldChecks.FRACTION_DIGITS) {
                extended = extended.setScale(FieldChecks.FRACTION_DIGITS, RoundingMode.HALF_EVEN);
            }
            FieldChecks.amount(extended, computedFrom, index, "unit price × quantity");
        }
        if (extended != null) {
            extended = kind == Kind.CREDIT ? extended.abs().negate() : extended.abs();
        }
        String currency = FieldChecks.currency(Objects.requireNonNullElse(value(t, lf.currency(), index), "USD"),
                lf.currency(), index);

        Hl7Dates.Hl7Time serviceDate = dateTime(t, lf.serviceDate(), index);
        Implant implant = implant(t, index, lf.implant(), master);
        return Line.builder().index(index).transactionId(transactionId).kind(kind)
                .serviceDate(serviceDate == null ? null : serviceDate.value(),
                        serviceDate == null ? null : serviceDate.precision())
                .item(Ref.of(itemSystem, itemCode))
                .itemText(FieldChecks.text(value(t, lf.item().text(), index), TEXT_MAX, lf.item().text(), index, "item text"))
                .master(master).quantity(signedQuantity).unitPrice(unitPrice).extendedPrice(extended).currency(currency)
                .costCenter(Ref.of(systems.costCenter(), FieldChecks.text(value(t, lf.department(), index), ID_MAX,
                        lf.department(), index, "department")))
                .location(Ref.of(systems.location(), FieldChecks.text(value(t, lf.location(), index), TEXT_MAX,
                        lf.location(), index, "location")))
                .performer(Ref.of(systems.practitioner(), FieldChecks.text(value(t, lf.performer(), index), ID_MAX,
                        lf.performer(), index, "performer")))
                .procedure(Ref.of(systems.procedure(), FieldChecks.text(value(t, lf.procedure(), index), ID_MAX,
                        lf.procedure(), index, "procedure")))
                .originalTransactionId(FieldChecks.text(value(t, lf.originalTransactionId(), index), ID_MAX,
                        lf.originalTransactionId(), index, "original transaction id"))
                .implants(implant == null ? List.of() : List.of(implant))
                .build();
    }

    private Implant implant(Group t, int index, MappingProfile.Implant rules, Item master) {
        if (rules == null) {
            return null;
        }
        String hrf = FieldChecks.udi(value(t, rules.udi(), index), rules.udi(), index);
        String di = FieldChecks.text(value(t, rules.deviceIdentifier(), index), ID_MAX, rules.deviceIdentifier(), index,
                "device identifier");
        String lot = FieldChecks.text(value(t, rules.lot(), index), ID_MAX, rules.lot(), index, "lot");
        String serial = FieldChecks.text(value(t, rules.serial(), index), ID_MAX, rules.serial(), index, "serial");
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
            FieldChecks.text(di, ID_MAX, rules.udi(), index, "device identifier in the UDI");
            FieldChecks.text(lot, ID_MAX, rules.udi(), index, "lot in the UDI");
            FieldChecks.text(serial, ID_MAX, rules.udi(), index, "serial in the UDI");
        }
        if (di != null && master.gtin() != null && di.length() == 14 && di.chars().allMatch(Character::isDigit)
                && !di.equals(master.gtin())) {
            String path = rules.udi() != null ? rules.udi().describe() : rules.deviceIdentifier().describe();
            throw new MappingException(path, index, ErrorCode.DATA_TYPE_ERROR, path + " (line " + index
                    + "): device identifier " + di + " does not match the item master GTIN " + master.gtin()
                    + " of item " + master.itemId());
        }
        String manufacturer = FieldChecks.text(value(t, rules.manufacturer(), index), TEXT_MAX, rules.manufacturer(),
                index, "manufacturer");
        if (manufacturer == null) {
            manufacturer = master.manufacturer();
        }
        if (manufacturer == null) {
            // configuration, not the message: the sender cannot fix it, the item master can
            String path = rules.manufacturer() != null ? rules.manufacturer().describe()
                    : profile.line().item().code().describe();
            throw new MappingException(path, index, ErrorCode.REQUIRED_FIELD_MISSING, path + " (line " + index
                    + "): an implant needs its manufacturer, and neither the message nor mappings/"
                    + profile.itemMaster().file() + " (item_id " + master.itemId() + ", column manufacturer) has it");
        }
        String catalogNumber = FieldChecks.text(value(t, rules.catalogNumber(), index), ID_MAX, rules.catalogNumber(),
                index, "catalog number");
        return new Implant(hrf, issuer, di, lot, serial, expiry, manufactured, manufacturer,
                catalogNumber != null ? catalogNumber : master.catalogNumber(),
                FieldChecks.text(value(t, rules.model(), index), TEXT_MAX, rules.model(), index, "model"),
                FieldChecks.text(value(t, rules.bodySite(), index), TEXT_MAX, rules.bodySite(), index, "body site"));
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

    private LocalDate date(Group t, FieldRule rule, int index) {
        String v = value(t, rule, index);
        if (v == null) {
            return null;
        }
        try {
            return Hl7Dates.date(v);
        } catch (IllegalArgumentException e) {
            throw new MappingException(rule.describe(), index, ErrorCode.DATA_TYPE_ERROR,
                    rule.describe() + " (line " + index + "): " + quoted(v) + "is not an HL7 date (" + e.getMessage() + ")");
        }
    }

    private Hl7Dates.Hl7Time dateTime(Group t, FieldRule rule, int index) {
        String v = value(t, rule, index);
        if (v == null) {
            return null;
        }
        try {
            return Hl7Dates.time(v, zone);
        } catch (IllegalArgumentException e) {
            throw new MappingException(rule.describe(), index, ErrorCode.DATA_TYPE_ERROR,
                    rule.describe() + " (line " + index + "): " + quoted(v) + "is not an HL7 date/time ("
                            + e.getMessage() + ")");
        }
    }

    /** A short value quoted in an error; a long one is left out (it may be anything). */
    private static String quoted(String v) {
        return v.length() <= Hl7Dates.MAX_LENGTH ? "'" + v + "' " : "";
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
