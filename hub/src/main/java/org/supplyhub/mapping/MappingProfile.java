package org.supplyhub.mapping;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.ZoneId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A sender's mapping profile, loaded from {@code mappings/*.yaml}: where each canonical field lives
 * in its messages. Message-level paths are absolute Terser paths; line paths are relative to each
 * repetition of the line group (FT1 and the segments that follow it), except paths to segments
 * only the message root has (MSH, PID, PV1), which read from the message; a leading {@code /}
 * always does. See the README, "Mapping profiles", for every construct.
 */
public record MappingProfile(
        String name,
        String description,
        String hl7Version,
        Accept accept,
        ZoneId timezone,
        Map<String, String> lookups,
        Systems systems,
        MessageFields message,
        LineFields line,
        ItemMasterRef itemMaster,
        Safety safety) {

    /** The profile without a {@code safety} section: every check with its default action. */
    public MappingProfile(String name, String description, String hl7Version, Accept accept, ZoneId timezone,
                          Map<String, String> lookups, Systems systems, MessageFields message, LineFields line,
                          ItemMasterRef itemMaster) {
        this(name, description, hl7Version, accept, timezone, lookups, systems, message, line, itemMaster, null);
    }

    /** The implant safety policy in force: the profile's, with each check it leaves out at its default. */
    public Safety safetyPolicy() {
        return Safety.withDefaults(safety);
    }

    /**
     * What each implant safety check does when a device fails it (issue 15): {@code expired} (expiry
     * before the line's service date), {@code recalled} (on the recall list), {@code suspect} (DI not
     * the item's GTIN, a serial already implanted in another patient, or implanted before).
     * Defaults: expired and recalled flag, suspect rejects (the DI/GTIN mismatch always was an AE).
     */
    public record Safety(SafetyRule expired, SafetyRule recalled, SafetyRule suspect) {

        public static final Safety DEFAULTS = new Safety(new SafetyRule(SafetyAction.flag, false),
                new SafetyRule(SafetyAction.flag, false), new SafetyRule(SafetyAction.reject, false));

        static Safety withDefaults(Safety s) {
            if (s == null) {
                return DEFAULTS;
            }
            return new Safety(s.expired != null ? s.expired : DEFAULTS.expired,
                    s.recalled != null ? s.recalled : DEFAULTS.recalled, s.suspect != null ? s.suspect : DEFAULTS.suspect);
        }

        /** The rule of a check by its name (expired, recalled, suspect). */
        public SafetyRule rule(String check) {
            return switch (check) {
                case "expired" -> expired;
                case "recalled" -> recalled;
                case "suspect" -> suspect;
                default -> throw new IllegalArgumentException("no implant check " + check);
            };
        }
    }

    /** {@code accept}: nothing happens; {@code flag}: AA plus a flag (DetectedIssue, admin API); {@code reject}: AE. */
    public enum SafetyAction { accept, flag, reject }

    /**
     * One check's action; {@code holdCharge} (only with {@code flag}) keeps the line's charge from
     * billing until an operator releases the flag. Written as {@code flag} or {@code { action: flag, holdCharge: true }}.
     */
    public record SafetyRule(SafetyAction action, boolean holdCharge) {

        /** One creator for both forms: Jackson picks a string delegate over an object's properties. */
        @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
        static SafetyRule of(com.fasterxml.jackson.databind.JsonNode node) {
            if (node.isTextual()) {
                return new SafetyRule(action(node.asText()), false);
            }
            if (!node.isObject()) {
                throw new IllegalArgumentException("a safety rule is accept, flag or reject, or { action: flag, holdCharge: true }");
            }
            java.util.Iterator<String> names = node.fieldNames();
            while (names.hasNext()) {
                String name = names.next();
                if (!name.equals("action") && !name.equals("holdCharge")) {
                    throw new IllegalArgumentException("unknown key '" + name + "' (known here: [action, holdCharge])");
                }
            }
            com.fasterxml.jackson.databind.JsonNode hold = node.get("holdCharge");
            if (hold != null && !hold.isNull() && !hold.isBoolean()) {
                throw new IllegalArgumentException("holdCharge is true or false");
            }
            com.fasterxml.jackson.databind.JsonNode action = node.get("action");
            return new SafetyRule(action == null || action.isNull() ? null : action(action.asText()),
                    hold != null && hold.asBoolean());
        }

        private static SafetyAction action(String text) {
            try {
                return SafetyAction.valueOf(text);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + text + "' is not an action: accept, flag or reject");
            }
        }
    }

    /**
     * Which messages this profile maps, and optionally from which senders (MSH-3^MSH-4, first
     * components); anything else is rejected with AR. No {@code senders}: any sender.
     * {@code reusedControlIds}: what a control id the sender already used, with other content, is.
     */
    public record Accept(List<String> messageTypes, List<String> senders, ReusedControlIds reusedControlIds) {

        public boolean acceptsSender(String sender) {
            return senders == null || senders.isEmpty() || senders.contains(sender);
        }

        public boolean controlIdsAreReused() {
            return reusedControlIds == ReusedControlIds.NEW_MESSAGE;
        }
    }

    /**
     * {@code refuse} (default): MSH-10 identifies a message, so other content under a used control id
     * is refused (AR), never taken as a correction or a resend. {@code newMessage}: for senders that
     * reuse MSH-10 (test feeds, some departmental systems): a message is MSH-10 plus its content hash,
     * so other content is a new message and only a true resend (same content) is answered from the
     * journal. A corrected message is then a second message, not a replacement.
     */
    public enum ReusedControlIds {
        @com.fasterxml.jackson.annotation.JsonProperty("refuse") REFUSE,
        @com.fasterxml.jackson.annotation.JsonProperty("newMessage") NEW_MESSAGE
    }

    /**
     * Identifier and code systems of the sender. Each is a URI, or a value rule resolved per
     * message ({@code patient: { path: PID-3-4-1, lookup: authorities }}). The accessors give the
     * URI of a fixed system and null for one taken from the message.
     */
    public static final class Systems {

        /** The systems a profile may name, in the order the README lists them. */
        static final List<String> NAMES = List.of("patient", "account", "encounter", "location", "practitioner",
                "organization", "costCenter", "transaction", "item", "chargeCode", "procedure", "reason", "ndc");
        /** Used by FHIR ids and identifiers of our own resources: must be the same for every message. */
        static final List<String> FIXED = List.of("transaction", "item", "chargeCode");

        private final Map<String, FieldRule> rules;

        private Systems(Map<String, FieldRule> rules) {
            this.rules = Map.copyOf(rules);
        }

        private static final com.fasterxml.jackson.databind.ObjectMapper RULES = new com.fasterxml.jackson.databind.ObjectMapper()
                .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

        /** A string is the system's URI; an object is a value rule that finds it in the message. */
        @JsonCreator
        static Systems of(Map<String, com.fasterxml.jackson.databind.JsonNode> raw) throws java.io.IOException {
            Map<String, FieldRule> rules = new LinkedHashMap<>();
            if (raw != null) {
                for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> e : raw.entrySet()) {
                    com.fasterxml.jackson.databind.JsonNode node = e.getValue();
                    if (node == null || node.isNull()) {
                        continue;
                    }
                    rules.put(e.getKey(), node.isTextual() ? FieldRule.constant(node.asText())
                            : RULES.treeToValue(node, FieldRule.class));
                }
            }
            return new Systems(rules);
        }

        /** Each system as written: a constant rule for a URI, else the value rule. */
        Map<String, FieldRule> rules() {
            return new LinkedHashMap<>(rules);
        }

        FieldRule rule(String name) {
            return rules.get(name);
        }

        private String fixed(String name) {
            FieldRule rule = rules.get(name);
            return rule != null && rule.isConstant() ? rule.defaultValue() : null;
        }

        public String patient() { return fixed("patient"); }
        public String account() { return fixed("account"); }
        public String encounter() { return fixed("encounter"); }
        public String location() { return fixed("location"); }
        public String practitioner() { return fixed("practitioner"); }
        public String organization() { return fixed("organization"); }
        public String costCenter() { return fixed("costCenter"); }
        public String transaction() { return fixed("transaction"); }
        public String item() { return fixed("item"); }
        public String chargeCode() { return fixed("chargeCode"); }
        public String procedure() { return fixed("procedure"); }
        public String reason() { return fixed("reason"); }
        public String ndc() { return fixed("ndc"); }
    }

    /**
     * {@code patientAuthority} points at the identifier's CX-4 (its HD subcomponents are read
     * from there) and {@code patientIdType} at CX-5; both are kept for the billing DFT's PID-3.
     */
    public record MessageFields(FieldRule patient, FieldRule patientAuthority, FieldRule patientIdType,
                                FieldRule account, FieldRule encounter) { }

    public record LineFields(String group, List<Classify> classify, FieldRule transactionId, FieldRule kind,
                             FieldRule serviceDate, FieldRule enteredDate, Item item, FieldRule quantity,
                             FieldRule unitPrice, FieldRule extendedPrice, FieldRule currency, FieldRule department,
                             FieldRule location, FieldRule performer, FieldRule enterer, FieldRule procedure,
                             FieldRule originalTransactionId, Coded reason, Coded ndc,
                             FieldRule performingOrganization, FieldRule orderingOrganization, FieldRule notes,
                             Implant implant, List<Device> devices) { }

    /**
     * The line's item: the code the item master is keyed by, its system as sent, its text, and
     * {@code systemUri}, the FHIR system of the code (e.g. from a lookup of FT1-7-3).
     */
    public record Item(FieldRule code, FieldRule system, FieldRule text, FieldRule systemUri) { }

    /** A repeating coded field (FT1-19 diagnoses, FT1-29 NDC): code, text and the system's URI. */
    public record Coded(FieldRule code, FieldRule text, FieldRule system) { }

    /** What a line is: the first rule whose {@code when} conditions all match decides; none: supply. */
    public record Classify(Map<String, Object> when, LineUse as) {

        @JsonCreator
        public Classify(@JsonProperty("when") Map<String, Object> when, @JsonProperty("as") LineUse as) {
            this.when = Condition.copy(when);
            this.as = as;
        }

        List<Condition> conditions() {
            return Condition.of(when);
        }
    }

    public enum LineUse {
        skip, service, supply
    }

    /** The one-device shorthand ({@code line.implant}): its paths read from the line. */
    public record Implant(FieldRule udi, FieldRule deviceIdentifier, FieldRule lot, FieldRule serial,
                          FieldRule expiry, FieldRule manufactureDate, FieldRule manufacturer,
                          FieldRule catalogNumber, FieldRule model, FieldRule bodySite) {

        Device asDevice() {
            return new Device(null, null, null, udi, deviceIdentifier, lot, serial, expiry, manufactureDate,
                    manufacturer, catalogNumber, model, bodySite);
        }
    }

    /**
     * Devices of a line: one per repetition of {@code each} (a segment, or {@code GROUP/SEGMENT})
     * in the line whose {@code where} matches, or one per distinct {@code groupBy} value (OBX-4
     * sub-id). Rules naming the {@code each} segment read from the device's repetitions; others
     * read from the line or the message.
     */
    public record Device(String each, Map<String, Object> where, String groupBy, FieldRule udi,
                         FieldRule deviceIdentifier, FieldRule lot, FieldRule serial, FieldRule expiry,
                         FieldRule manufactureDate, FieldRule manufacturer, FieldRule catalogNumber,
                         FieldRule model, FieldRule bodySite) {

        Map<String, FieldRule> rules() {
            Map<String, FieldRule> all = new LinkedHashMap<>();
            all.put("udi", udi);
            all.put("deviceIdentifier", deviceIdentifier);
            all.put("lot", lot);
            all.put("serial", serial);
            all.put("expiry", expiry);
            all.put("manufactureDate", manufactureDate);
            all.put("manufacturer", manufacturer);
            all.put("catalogNumber", catalogNumber);
            all.put("model", model);
            all.put("bodySite", bodySite);
            all.values().removeIf(java.util.Objects::isNull);
            return all;
        }
    }

    /** The item master crosswalk file and how a line's item is looked up in it. */
    public record ItemMasterRef(String file, String match) { }
}
