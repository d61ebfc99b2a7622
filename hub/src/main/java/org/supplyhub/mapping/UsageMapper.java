package org.supplyhub.mapping;

import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.Structure;
import org.supplyhub.mapping.MappingProfile.Coded;
import org.supplyhub.mapping.MappingProfile.Device;
import org.supplyhub.mapping.MappingProfile.LineFields;
import org.supplyhub.mapping.MappingProfile.LineUse;
import org.supplyhub.mapping.SupplyUsage.Coding;
import org.supplyhub.mapping.SupplyUsage.Implant;
import org.supplyhub.mapping.SupplyUsage.Item;
import org.supplyhub.mapping.SupplyUsage.Kind;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.mapping.SupplyUsage.Ref;
import org.supplyhub.mapping.SupplyUsage.Use;
import org.supplyhub.mapping.udi.Udi;
import org.supplyhub.mapping.udi.UdiException;
import org.supplyhub.mapping.udi.UdiParser;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static org.supplyhub.mapping.FieldChecks.CODE_MAX;
import static org.supplyhub.mapping.FieldChecks.ID_MAX;
import static org.supplyhub.mapping.FieldChecks.NOTE_MAX;
import static org.supplyhub.mapping.FieldChecks.TEXT_MAX;

/**
 * Maps a parsed HL7 message to canonical {@link SupplyUsage} as one interface's profile says.
 * Thread-safe: holds only the immutable profile, crosswalk, lookup tables and compiled rules.
 */
public final class UsageMapper {


    private final String interfaceId;
    private final MappingProfile profile;
    private final ItemMaster itemMaster;
    private final Lookups lookups;
    private final StructureModel model;
    private final ZoneId zone;
    /** CX-4's namespace, universal id and its type, when the profile names the patient's authority. */
    private final FieldRule[] authorityRules;
    private final List<ClassifyRule> classify;
    private final List<DeviceSpec> devices;
    private final boolean suspectRejects;

    private record ClassifyRule(List<Condition> when, LineUse as) { }

    /** A device rule with its {@code each} steps, {@code where} and {@code groupBy} parsed. */
    private record DeviceSpec(Device rules, String[] steps, List<Condition> where, Hl7Path groupBy) { }

    UsageMapper(String interfaceId, MappingProfile profile, ItemMaster itemMaster) {
        this(interfaceId, profile, itemMaster, Lookups.NONE, StructureModel.NONE);
    }

    UsageMapper(String interfaceId, MappingProfile profile, ItemMaster itemMaster, Lookups lookups,
                StructureModel model) {
        this.interfaceId = interfaceId;
        this.profile = profile;
        this.itemMaster = itemMaster;
        this.lookups = lookups;
        this.model = model;
        this.zone = profile.timezone() == null ? ZoneId.systemDefault() : profile.timezone();
        this.authorityRules = authorityRules(profile.message().patient(), profile.message().patientAuthority());
        LineFields lf = profile.line();
        this.classify = lf.classify() == null ? List.of()
                : lf.classify().stream().map(c -> new ClassifyRule(c.conditions(), c.as())).toList();
        List<DeviceSpec> specs = new ArrayList<>();
        if (lf.implant() != null) {
            specs.add(new DeviceSpec(lf.implant().asDevice(), null, List.of(), null));
        }
        if (lf.devices() != null) {
            for (Device d : lf.devices()) {
                specs.add(new DeviceSpec(d, d.each().replaceFirst("^/", "").split("/"), Condition.of(d.where()),
                        d.groupBy() == null ? null : Hl7Path.parse(d.groupBy())));
            }
        }
        this.devices = List.copyOf(specs);
        this.suspectRejects = profile.safetyPolicy().suspect().action() == MappingProfile.SafetyAction.reject;
    }

    /**
     * The path an implant check's AE names: the first device rule's field for it ({@code expiry},
     * {@code serial}, {@code lot}, {@code deviceIdentifier}), else its UDI rule, where the value came from.
     */
    public String devicePath(String field) {
        for (DeviceSpec spec : devices) {
            FieldRule own = spec.rules().rules().get(field);
            FieldRule rule = own != null ? own : spec.rules().udi();
            if (rule != null) {
                return rule.describe();
            }
        }
        return "line." + field;
    }

    /**
     * CX-4's HD-1..3 read as the authority rule says: with its own {@code where}, or, as a plain path
     * in the patient rule's field, from the repetition the patient rule's {@code where} picked (the
     * MRN's authority, not the first PID-3's). The load check refuses other shapes.
     */
    private static FieldRule[] authorityRules(FieldRule patient, FieldRule authority) {
        if (authority == null || !authority.isPathWithWhere() || !Hl7Path.isValid(authority.path())) {
            return null;
        }
        Map<String, Object> where = authority.where();
        if (where == null && patient != null && patient.where() != null && patient.path() != null
                && Hl7Path.isValid(patient.path())) {
            Hl7Path own = Hl7Path.parse(authority.path());
            Hl7Path patients = Hl7Path.parse(patient.path());
            if (own.commonLevel(patients) >= own.fieldLevel()) {
                where = patient.where();
            }
        }
        return new FieldRule[] {authority.atSubcomponent(1, where), authority.atSubcomponent(2, where),
                authority.atSubcomponent(3, where)};
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
        Group root = (Group) message;
        Scope scope = Scope.message(root, model, lookups);
        MappingProfile.MessageFields fields = profile.message();

        String patientId = FieldChecks.text(fields.patient().value(scope), ID_MAX, fields.patient(), 0,
                "patient identifier");
        if (patientId == null) {
            throw new MappingException(fields.patient().describe(), 0, ErrorCode.REQUIRED_FIELD_MISSING,
                    fields.patient().describe() + ": patient identifier is missing");
        }
        Ref patient = ref("patient", scope, patientId);
        SupplyUsage.Assigner authority = null;
        if (authorityRules != null) {
            FieldRule rule = fields.patientAuthority();
            authority = SupplyUsage.Assigner.of(
                    FieldChecks.text(authorityRules[0].value(scope), ID_MAX, rule, 0, "assigning authority"),
                    FieldChecks.text(authorityRules[1].value(scope), ID_MAX, rule, 0, "assigning authority"),
                    FieldChecks.text(authorityRules[2].value(scope), ID_MAX, rule, 0, "assigning authority"));
        }
        String idType = FieldChecks.code(value(scope, fields.patientIdType()), CODE_MAX, fields.patientIdType(), 0,
                "identifier type");
        Ref account = ref("account", scope,
                FieldChecks.text(value(scope, fields.account()), ID_MAX, fields.account(), 0, "account"));
        Ref encounter = ref("encounter", scope,
                FieldChecks.text(value(scope, fields.encounter()), ID_MAX, fields.encounter(), 0, "encounter"));

        LineFields lf = profile.line();
        Structure[] groups;
        try {
            groups = root.getAll(lf.group());
        } catch (HL7Exception e) {
            throw new MappingException(lf.group(), 0, ErrorCode.SEGMENT_SEQUENCE_ERROR,
                    "the message has no " + lf.group() + " group");
        }
        List<Line> lines = new ArrayList<>(groups.length);
        List<Integer> skipped = new ArrayList<>();
        for (int i = 0; i < groups.length; i++) {
            Scope line = scope.line((Group) groups[i], i + 1);
            LineUse use = classify(line);
            if (use == LineUse.skip) {
                skipped.add(i + 1);
            } else {
                lines.add(mapLine(line, use == LineUse.service ? Use.SERVICE : Use.SUPPLY, lf));
            }
        }
        if (groups.length == 0) {
            throw new MappingException(lf.item().code().describe(), 0, ErrorCode.REQUIRED_FIELD_MISSING,
                    "the message has no usage lines");
        }
        // every line skipped: the profile filtered the message (AA, journaled, nothing to deliver)
        return new SupplyUsage(interfaceId, sender, controlId, messageType, patient, authority, idType, account,
                encounter, lines, skipped);
    }

    /** The first classify rule whose conditions all match; no match: a supply line. */
    private LineUse classify(Scope line) {
        for (ClassifyRule rule : classify) {
            boolean all = true;
            for (Condition c : rule.when()) {
                if (!c.matches(line)) {
                    all = false;
                    break;
                }
            }
            if (all) {
                return rule.as();
            }
        }
        return LineUse.supply;
    }

    private Line mapLine(Scope t, Use requested, LineFields lf) {
        int index = t.index;
        String transactionId = FieldChecks.text(required(t, lf.transactionId(), "transaction id"), ID_MAX,
                lf.transactionId(), index, "transaction id");
        String itemCode = FieldChecks.code(required(t, lf.item().code(), "item code"), CODE_MAX,
                lf.item().code(), index, "item code");
        String itemSystem = FieldChecks.text(value(t, lf.item().system()), ID_MAX, lf.item().system(), index,
                "item coding system");
        String itemSystemUri = uri(t, lf.item().systemUri(), "item code system");
        String sourceCode = matchKey(itemSystem, itemCode);
        Item master = itemMaster.find(sourceCode).orElse(null);
        if (master == null && requested == Use.SUPPLY) {
            throw new MappingException(lf.item().code().describe(), index, ErrorCode.TABLE_VALUE_NOT_FOUND,
                    lf.item().code().describe() + " (line " + index + "): item '" + sourceCode + "' is not in the item master");
        }
        // the item master has the last word on stock: a non-stock item is a service whatever the message says
        Use use = master != null && !master.keptInStock() ? Use.SERVICE : requested;

        BigDecimal quantity = FieldChecks.number(required(t, lf.quantity(), "quantity"),
                FieldChecks.QUANTITY_DIGITS, lf.quantity(), index, "quantity");
        if (quantity.signum() == 0) {
            throw new MappingException(lf.quantity().describe(), index, ErrorCode.DATA_TYPE_ERROR,
                    lf.quantity().describe() + " (line " + index + "): quantity is zero");
        }
        Kind kind = Kind.CHARGE;
        String kindValue = value(t, lf.kind());
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

        BigDecimal unitPrice = FieldChecks.number(value(t, lf.unitPrice()), FieldChecks.AMOUNT_DIGITS,
                lf.unitPrice(), index, "unit price");
        // a computed amount out of range is the sent unit price's fault, else the quantity's
        FieldRule computedFrom = unitPrice != null ? lf.unitPrice() : lf.quantity();
        if (unitPrice == null && master != null) {
            unitPrice = master.unitPrice();
        }
        BigDecimal extended = FieldChecks.number(value(t, lf.extendedPrice()), FieldChecks.AMOUNT_DIGITS,
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
        String currency = FieldChecks.currency(Objects.requireNonNullElse(value(t, lf.currency()), "USD"),
                lf.currency(), index);

        Hl7Dates.Hl7Time serviceDate = dateTime(t, lf.serviceDate());
        Hl7Dates.Hl7Time enteredDate = dateTime(t, lf.enteredDate());
        // services are not taken from stock and carry no devices of their own
        List<Implant> implants = use == Use.SUPPLY ? devices(t, master) : List.of();
        return Line.builder().index(index).transactionId(transactionId).kind(kind).use(use)
                .serviceDate(serviceDate == null ? null : serviceDate.value(),
                        serviceDate == null ? null : serviceDate.precision())
                .enteredDate(enteredDate == null ? null : enteredDate.value(),
                        enteredDate == null ? null : enteredDate.precision())
                .item(Ref.of(itemSystem, itemCode)).itemSystemUri(itemSystemUri)
                .itemText(FieldChecks.text(value(t, lf.item().text()), TEXT_MAX, lf.item().text(), index, "item text"))
                .master(master).quantity(signedQuantity).unitPrice(unitPrice).extendedPrice(extended).currency(currency)
                .costCenter(ref("costCenter", t, FieldChecks.text(value(t, lf.department()), ID_MAX,
                        lf.department(), index, "department")))
                .location(ref("location", t, FieldChecks.text(value(t, lf.location()), TEXT_MAX,
                        lf.location(), index, "location")))
                .performer(ref("practitioner", t, FieldChecks.text(value(t, lf.performer()), ID_MAX,
                        lf.performer(), index, "performer")))
                .enterer(ref("practitioner", t, FieldChecks.text(value(t, lf.enterer()), ID_MAX,
                        lf.enterer(), index, "enterer")))
                .procedure(ref("procedure", t, FieldChecks.text(value(t, lf.procedure()), ID_MAX,
                        lf.procedure(), index, "procedure")))
                .performingOrganization(ref("organization", t, FieldChecks.text(value(t, lf.performingOrganization()),
                        ID_MAX, lf.performingOrganization(), index, "performing organization")))
                .orderingOrganization(ref("organization", t, FieldChecks.text(value(t, lf.orderingOrganization()),
                        ID_MAX, lf.orderingOrganization(), index, "ordering organization")))
                .originalTransactionId(FieldChecks.text(value(t, lf.originalTransactionId()), ID_MAX,
                        lf.originalTransactionId(), index, "original transaction id"))
                .reasons(codings(t, lf.reason(), "reason", null, "diagnosis"))
                .ndc(coding(t, lf.ndc(), "ndc", FhirMapper.NDC, "NDC"))
                .notes(notes(t, lf.notes()))
                .implants(implants)
                .build();
    }

    /** A reference whose system is the profile's (fixed, or read from the message); null without a value. */
    private Ref ref(String system, Scope scope, String value) {
        if (value == null) {
            return null;
        }
        return Ref.of(system(system, scope, null), value);
    }

    /**
     * A system's URI: fixed, or read from the message (and its lookup table). A value rule that
     * finds nothing is an AE naming the field: the identifier cannot be used without its system.
     */
    private String system(String name, Scope scope, String fallback) {
        FieldRule rule = profile.systems().rule(name);
        if (rule == null) {
            return fallback;
        }
        if (rule.isConstant()) {
            return rule.defaultValue();
        }
        String uri = uri(scope, rule, name + " identifier system");
        if (uri == null) {
            throw new MappingException(rule.describe(), scope.index, ErrorCode.REQUIRED_FIELD_MISSING,
                    rule.describe() + (scope.index > 0 ? " (line " + scope.index + ")" : "") + ": the " + name
                            + " identifier system is missing (systems." + name + ")");
        }
        return uri;
    }

    /**
     * A rule's value that must be a URI (a system). A value from the rule's lookup table is not
     * parsed again: the loader checked every value of a table used for a system.
     */
    private static String uri(Scope scope, FieldRule rule, String what) {
        String v = value(scope, rule);
        if (v != null && rule.lookup() == null && !FieldChecks.isUri(v)) {
            throw new MappingException(rule.describe(), scope.index, ErrorCode.DATA_TYPE_ERROR,
                    rule.describe() + (scope.index > 0 ? " (line " + scope.index + ")" : "") + ": the " + what
                            + " is not a URI (map it through a lookup table)");
        }
        return v == null ? null : FieldChecks.text(v, FieldChecks.UDI_MAX, rule, scope.index, what);
    }

    /** One coded value (FT1-29 NDC). */
    private Coding coding(Scope t, Coded rules, String system, String fallbackSystem, String what) {
        if (rules == null) {
            return null;
        }
        String code = FieldChecks.code(value(t, rules.code()), CODE_MAX, rules.code(), t.index, what + " code");
        if (code == null) {
            return null;
        }
        String uri = rules.system() != null ? uri(t, rules.system(), what + " code system") : null;
        return Coding.of(uri != null ? uri : system(system, t, fallbackSystem), code,
                FieldChecks.text(value(t, rules.text()), TEXT_MAX, rules.text(), t.index, what + " text"));
    }

    /** Every repetition of a coded field (FT1-19): code, text and system read from the same repetition. */
    private List<Coding> codings(Scope t, Coded rules, String system, String fallbackSystem, String what) {
        if (rules == null) {
            return List.of();
        }
        Hl7Path code = rules.code() == null ? null : rules.code().single();
        if (code == null) {
            Coding one = coding(t, rules, system, fallbackSystem, what);
            return one == null ? List.of() : List.of(one);
        }
        int n = code.count(t.rootFor(code), code.fieldLevel());
        List<Coding> all = new ArrayList<>(n);
        for (int r = 0; r < n; r++) {
            Coding c = coding(t.pinned(code, code.fieldLevel(), r), rules, system, fallbackSystem, what);
            if (c != null) {
                all.add(c);
            }
        }
        return all;
    }

    /** Every repetition of every note segment of the line (NTE-3), in order. */
    private static List<String> notes(Scope t, FieldRule rule) {
        if (rule == null) {
            return List.of();
        }
        Hl7Path path = rule.single();
        if (path == null || rule.map() != null || rule.lookup() != null) {
            String one = FieldChecks.text(value(t, rule), NOTE_MAX, rule, t.index, "note");
            return one == null ? List.of() : List.of(one);
        }
        List<String> all = new ArrayList<>();
        for (Segment seg : path.segments(t.rootFor(path))) {
            int n = path.fieldCount(seg);
            for (int r = 0; r < n; r++) {
                String v = FieldChecks.text(path.readIn(seg, r), NOTE_MAX, rule, t.index, "note");
                if (v != null) {
                    all.add(v);
                }
            }
        }
        return all;
    }

    /** The line's devices: the {@code implant} shorthand, then each {@code devices} rule's repetitions. */
    private List<Implant> devices(Scope line, Item master) {
        List<Implant> all = new ArrayList<>();
        for (DeviceSpec spec : devices) {
            if (spec.steps() == null) {
                Implant one = implant(line, spec.rules(), master);
                if (one != null) {
                    all.add(one);
                }
                continue;
            }
            for (List<Segment> unit : units(line, spec)) {
                Implant one = implant(line.device(spec.steps(), unit), spec.rules(), master);
                if (one != null) {
                    all.add(one);
                }
            }
        }
        return all;
    }

    /** The device units of a line: each matching repetition, or the repetitions sharing a groupBy value. */
    private static List<List<Segment>> units(Scope line, DeviceSpec spec) {
        List<Segment> segments = new ArrayList<>();
        collect(line.line, spec.steps(), 0, segments);
        if (!spec.where().isEmpty()) {
            segments.removeIf(seg -> !spec.where().stream().allMatch(c -> c.matches(seg, -1)));
        }
        if (spec.groupBy() == null) {
            List<List<Segment>> units = new ArrayList<>(segments.size());
            segments.forEach(s -> units.add(List.of(s)));
            return units;
        }
        Map<String, List<Segment>> byKey = new LinkedHashMap<>();
        for (Segment seg : segments) {
            String key = Objects.requireNonNullElse(spec.groupBy().readIn(seg, -1), "");
            byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(seg);
        }
        return new ArrayList<>(byKey.values());
    }

    private static void collect(Group group, String[] steps, int at, List<Segment> out) {
        try {
            if (!Hl7Path.has(group, steps[at])) {
                return;
            }
            for (Structure s : group.getAll(steps[at])) {
                if (at == steps.length - 1) {
                    if (s instanceof Segment seg && !seg.isEmpty()) {
                        out.add(seg);
                    }
                } else if (s instanceof Group g) {
                    collect(g, steps, at + 1, out);
                }
            }
        } catch (HL7Exception e) {
            // a structure that cannot be read holds no device
        }
    }

    private Implant implant(Scope t, Device rules, Item master) {
        int index = t.index;
        String hrf = FieldChecks.udi(value(t, rules.udi()), rules.udi(), index);
        String di = FieldChecks.text(value(t, rules.deviceIdentifier()), ID_MAX, rules.deviceIdentifier(), index,
                "device identifier");
        String lot = FieldChecks.text(value(t, rules.lot()), ID_MAX, rules.lot(), index, "lot");
        String serial = FieldChecks.text(value(t, rules.serial()), ID_MAX, rules.serial(), index, "serial");
        LocalDate expiry = date(t, rules.expiry());
        LocalDate manufactured = date(t, rules.manufactureDate());
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
        // a mismatch is suspect identity: rejected here where the field is known, unless the profile's
        // safety.suspect says to flag it (org.supplyhub.safety finds it again) or accept it
        if (!master.knowsDeviceIdentifier(di) && suspectRejects) {
            String path = rules.udi() != null ? rules.udi().describe() : rules.deviceIdentifier().describe();
            throw new MappingException(path, index, ErrorCode.DATA_TYPE_ERROR, path + " (line " + index
                    + "): device identifier " + di + " does not match the item master GTIN " + master.gtin()
                    + " of item " + master.itemId());
        }
        String manufacturer = FieldChecks.text(value(t, rules.manufacturer()), TEXT_MAX, rules.manufacturer(),
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
        String catalogNumber = FieldChecks.text(value(t, rules.catalogNumber()), ID_MAX, rules.catalogNumber(),
                index, "catalog number");
        return new Implant(hrf, issuer, di, lot, serial, expiry, manufactured, manufacturer,
                catalogNumber != null ? catalogNumber : master.catalogNumber(),
                FieldChecks.text(value(t, rules.model()), TEXT_MAX, rules.model(), index, "model"),
                FieldChecks.text(value(t, rules.bodySite()), TEXT_MAX, rules.bodySite(), index, "body site"));
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

    private static String required(Scope t, FieldRule rule, String what) {
        String v = value(t, rule);
        if (v == null) {
            throw new MappingException(rule.describe(), t.index, ErrorCode.REQUIRED_FIELD_MISSING,
                    rule.describe() + " (line " + t.index + "): " + what + " is missing");
        }
        return v;
    }

    private static LocalDate date(Scope t, FieldRule rule) {
        int index = t.index;
        String v = value(t, rule);
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

    private Hl7Dates.Hl7Time dateTime(Scope t, FieldRule rule) {
        int index = t.index;
        String v = value(t, rule);
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

    /** A rule's value in a scope (null for a rule the profile leaves out). */
    private static String value(Scope scope, FieldRule rule) {
        return rule == null ? null : rule.value(scope);
    }
}
