package org.supplyhub.mapping;

import org.supplyhub.mapping.MappingProfile.Device;
import org.supplyhub.mapping.MappingProfile.LineFields;
import org.supplyhub.mapping.ProfileLoader.KeyProblem;
import org.supplyhub.mapping.structure.MessageStructure;
import org.supplyhub.mapping.structure.MessageStructures;
import org.supplyhub.mapping.structure.UnknownMessageStructureException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The load-time check of one profile: required keys, rule syntax, lookup table names, and every
 * path against HAPI's model of the profile's {@code hl7Version} and message types (a misspelt
 * group, segment or field is a problem at the line of its key).
 */
final class ProfileCheck {

    private final MappingProfile p;
    private final List<KeyProblem> problems = new ArrayList<>();
    private final List<MessageStructure> structures = new ArrayList<>();
    private StructureModel model = StructureModel.NONE;

    ProfileCheck(MappingProfile profile) {
        this.p = profile;
    }

    /** Where a rule's paths are read from, for the structure check. */
    private record Context(boolean line, String[] each) {
        static final Context MESSAGE = new Context(false, null);
        static final Context LINE = new Context(true, null);
    }

    List<KeyProblem> run() {
        checkVersionAndTypes();
        checkSystems();
        MappingProfile.MessageFields m = p.message();
        if (m == null || m.patient() == null) {
            add("message.patient is required", "message");
        } else {
            rule(Context.MESSAGE, m.patient(), "message", "patient");
            rule(Context.MESSAGE, m.patientAuthority(), "message", "patientAuthority");
            if (m.patientAuthority() != null && !m.patientAuthority().isPathWithWhere()) {
                add("message.patientAuthority must be a path to CX-4 (e.g. PID-3-4), optionally with where:"
                        + " its namespace, universal id and type are read from there", "message", "patientAuthority");
            }
            rule(Context.MESSAGE, m.patientIdType(), "message", "patientIdType");
            rule(Context.MESSAGE, m.account(), "message", "account");
            rule(Context.MESSAGE, m.encounter(), "message", "encounter");
        }
        checkLine();
        checkSafety();
        if (p.itemMaster() == null || p.itemMaster().file() == null) {
            add("itemMaster.file (the crosswalk CSV) is required", "itemMaster");
        } else if (p.itemMaster().match() != null
                && !p.itemMaster().match().replace("{item.system}", "").replace("{item.code}", "").matches("[^{}]*")) {
            add("itemMaster.match may only use {item.system} and {item.code}", "itemMaster", "match");
        }
        return problems;
    }

    /** Each check of {@code safety} needs an action; {@code holdCharge} only means something with {@code flag}. */
    private void checkSafety() {
        MappingProfile.Safety safety = p.safety();
        if (safety == null) {
            return;
        }
        for (String check : List.of("expired", "recalled", "suspect")) {
            MappingProfile.SafetyRule rule = safety.rule(check);
            if (rule == null) {
                continue;
            }
            if (rule.action() == null) {
                add("safety." + check + ".action is required: accept, flag or reject", "safety", check);
            } else if (rule.holdCharge() && rule.action() != MappingProfile.SafetyAction.flag) {
                add("safety." + check + ".holdCharge needs action flag: with " + rule.action()
                        + " there is no flag to release the charge with", "safety", check, "holdCharge");
            }
        }
    }

    private void checkVersionAndTypes() {
        if (p.accept() == null || p.accept().messageTypes() == null || p.accept().messageTypes().isEmpty()) {
            add("accept.messageTypes must list at least one message type, e.g. DFT^P03", "accept");
        }
        if (p.accept() != null && p.accept().senders() != null && p.accept().senders().stream()
                .anyMatch(s -> s == null || !s.matches("[^^]*\\^[^^]*"))) {
            add("accept.senders lists MSH-3^MSH-4 pairs, e.g. ORMGR^MERCY_OR", "accept", "senders");
        }
        if (p.hl7Version() == null) {
            add("hl7Version is required: the HL7 version whose structure the paths are checked against, e.g. \"2.5.1\" "
                    + "(known: " + String.join(", ", MessageStructures.versions()) + ")", "hl7Version");
            return;
        }
        if (p.accept() == null || p.accept().messageTypes() == null) {
            return;
        }
        for (int i = 0; i < p.accept().messageTypes().size(); i++) {
            String type = p.accept().messageTypes().get(i);
            try {
                structures.add(MessageStructures.of(p.hl7Version(), type));
            } catch (UnknownMessageStructureException e) {
                add(e.getMessage(), type == null || structures.isEmpty() && i == 0 && !knownVersion()
                        ? new String[] {"hl7Version"} : new String[] {"accept", "messageTypes", String.valueOf(i)});
            }
        }
        if (p.line() != null && !structures.isEmpty()) {
            StructureModel found = StructureModel.of(p.hl7Version(), p.accept().messageTypes(), p.line().group());
            model = found == null ? StructureModel.NONE : found;
        }
    }

    private boolean knownVersion() {
        return MessageStructures.versions().contains(p.hl7Version());
    }

    /** Systems become FHIR uris: absolute, without spaces; or rules that find them in the message. */
    private void checkSystems() {
        if (p.systems() == null || p.systems().rule("patient") == null) {
            add("systems.patient (the sender's patient identifier system) is required", "systems");
        }
        if (p.systems() == null) {
            return;
        }
        p.systems().rules().forEach((name, rule) -> {
            if (!MappingProfile.Systems.NAMES.contains(name)) {
                add("systems." + name + ": unknown system (known: " + MappingProfile.Systems.NAMES + ")", "systems", name);
            } else if (rule.isConstant()) {
                String value = rule.defaultValue();
                if (!FieldChecks.isUri(value)) {
                    add("systems." + name + ": '" + value + "' is not an absolute URI like https://…/sid/mrn or urn:oid:…",
                            "systems", name);
                }
            } else if (MappingProfile.Systems.FIXED.contains(name)) {
                add("systems." + name + " names the hub's own identifiers: it must be a URI, not a rule", "systems", name);
            } else {
                rule(Context.LINE, rule, "systems", name);
            }
        });
    }

    private void checkLine() {
        LineFields line = p.line();
        if (line == null) {
            add("line is required", "line");
            return;
        }
        if (line.group() == null || !line.group().matches("[A-Z][A-Z0-9_]*")) {
            add("line.group must name the repeating group of each line, e.g. FINANCIAL", "line", "group");
        } else {
            for (MessageStructure s : structures) {
                if (s.findGroup(line.group()).isEmpty()) {
                    add("line.group: " + s.name() + " (v" + s.version() + ") has no group " + line.group(), "line", "group");
                }
            }
        }
        required(line.transactionId(), "transactionId");
        required(line.quantity(), "quantity");
        if (line.item() == null) {
            add("line.item is required", "line");
        } else {
            if (line.item().code() == null) {
                add("line.item.code is required", "line", "item");
            }
            rule(Context.LINE, line.item().code(), "line", "item", "code");
            rule(Context.LINE, line.item().system(), "line", "item", "system");
            rule(Context.LINE, line.item().text(), "line", "item", "text");
            rule(Context.LINE, line.item().systemUri(), "line", "item", "systemUri");
        }
        Map<String, FieldRule> plain = new LinkedHashMap<>();
        plain.put("kind", line.kind());
        plain.put("serviceDate", line.serviceDate());
        plain.put("enteredDate", line.enteredDate());
        plain.put("unitPrice", line.unitPrice());
        plain.put("extendedPrice", line.extendedPrice());
        plain.put("currency", line.currency());
        plain.put("department", line.department());
        plain.put("location", line.location());
        plain.put("performer", line.performer());
        plain.put("enterer", line.enterer());
        plain.put("procedure", line.procedure());
        plain.put("originalTransactionId", line.originalTransactionId());
        plain.put("performingOrganization", line.performingOrganization());
        plain.put("orderingOrganization", line.orderingOrganization());
        plain.put("notes", line.notes());
        plain.forEach((name, rule) -> rule(Context.LINE, rule, "line", name));
        coded(line.reason(), "reason");
        coded(line.ndc(), "ndc");
        if (line.kind() != null && line.kind().map() != null) {
            line.kind().map().forEach((from, to) -> {
                if (!to.equals("charge") && !to.equals("credit")) {
                    add("line.kind.map: '" + from + "' maps to '" + to + "', expected charge or credit", "line", "kind", "map");
                }
            });
        }
        if (line.classify() != null) {
            for (int i = 0; i < line.classify().size(); i++) {
                MappingProfile.Classify c = line.classify().get(i);
                String at = String.valueOf(i);
                if (c.as() == null) {
                    add("line.classify[" + i + "].as must be skip, service or supply", "line", "classify", at);
                }
                if (c.when() == null || c.when().isEmpty()) {
                    add("line.classify[" + i + "].when needs at least one condition ({ PATH: value | [values] | \"*\" })",
                            "line", "classify", at);
                } else {
                    for (String problem : Condition.problems("line.classify[" + i + "].when", c.when())) {
                        add(problem, "line", "classify", at, "when");
                    }
                    String name = "line.classify[" + i + "].when";
                    c.when().keySet().stream().filter(Hl7Path::isValid).forEach(path -> path(Context.LINE, path, name,
                            "line", "classify", at, "when", path));
                }
            }
        }
        if (line.implant() != null) {
            device(Context.LINE, line.implant().asDevice(), "line", "implant");
        }
        if (line.devices() != null) {
            for (int i = 0; i < line.devices().size(); i++) {
                Device d = line.devices().get(i);
                String at = String.valueOf(i);
                String name = "line.devices[" + i + "]";
                if (d.each() == null || !d.each().matches("/?([A-Z][A-Z0-9_]*/)*[A-Z][A-Z0-9]{2}")) {
                    add(name + ".each must name the device's segment in the line, e.g. PRT, OBX, ZDV or GROUP/PRT",
                            "line", "devices", at, "each");
                    continue;
                }
                String[] each = d.each().replaceFirst("^/", "").split("/");
                Context ctx = new Context(true, each);
                eachExists(each, name, at);
                for (String problem : Condition.problems(name + ".where", d.where())) {
                    add(problem, "line", "devices", at, "where");
                }
                if (d.where() != null) {
                    d.where().keySet().forEach(path -> unitPath(ctx, path, name + ".where", "line", "devices", at, "where", path));
                }
                if (d.groupBy() != null) {
                    if (!Hl7Path.isValid(d.groupBy())) {
                        add(name + ".groupBy: '" + d.groupBy() + "' is not a Terser path like OBX-4", "line", "devices", at, "groupBy");
                    } else {
                        unitPath(ctx, d.groupBy(), name + ".groupBy", "line", "devices", at, "groupBy");
                    }
                }
                if (d.rules().isEmpty()) {
                    add(name + " maps nothing: give at least one of udi, deviceIdentifier, lot, serial", "line", "devices", at);
                }
                device(ctx, d, "line", "devices", at);
            }
        }
    }

    /** A {@code where}/{@code groupBy} path must name a field of the {@code each} segment. */
    private void unitPath(Context ctx, String path, String name, String... key) {
        if (!Hl7Path.isValid(path)) {
            return; // reported with the conditions
        }
        Hl7Path parsed = Hl7Path.parse(path);
        String segment = ctx.each()[ctx.each().length - 1];
        if (!parsed.inUnit(ctx.each())) {
            add(name + ": '" + path + "' must name a field of " + segment + ", the segment each device is made of", key);
            return;
        }
        path(ctx, path, name, key);
    }

    private void eachExists(String[] each, String name, String at) {
        for (MessageStructure s : structures) {
            Optional<List<String>> line = s.findGroup(p.line().group());
            if (line.isEmpty()) {
                continue;
            }
            List<String> groups = new ArrayList<>(line.get());
            groups.addAll(Arrays.asList(each).subList(0, each.length - 1));
            String segment = each[each.length - 1];
            String problem = s.check(groups, segment, 1, 0, 0);
            if (problem != null && each.length == 1 && s.check(List.of(), segment, 1, 0, 0) == null) {
                problem = null; // the root has it, and HAPI parses one sent after the FT1 into the line (v2.3 OBX)
            }
            if (problem != null) {
                add(name + ".each: " + problem, "line", "devices", at, "each");
            }
        }
    }

    private void device(Context ctx, Device d, String... key) {
        d.rules().forEach((name, rule) -> rule(ctx, rule, append(key, name)));
    }

    private void coded(MappingProfile.Coded coded, String name) {
        if (coded == null) {
            return;
        }
        if (coded.code() == null) {
            add("line." + name + ".code is required", "line", name);
        }
        rule(Context.LINE, coded.code(), "line", name, "code");
        rule(Context.LINE, coded.text(), "line", name, "text");
        rule(Context.LINE, coded.system(), "line", name, "system");
    }

    private void required(FieldRule rule, String name) {
        if (rule == null) {
            add("line." + name + " is required", "line");
        } else {
            rule(Context.LINE, rule, "line", name);
        }
    }

    private void rule(Context ctx, FieldRule rule, String... key) {
        if (rule == null) {
            return;
        }
        String name = display(key);
        for (String problem : rule.problems(name)) {
            add(problem, key);
        }
        for (String table : rule.lookups()) {
            if (p.lookups() == null || !p.lookups().containsKey(table)) {
                add(name + ": lookup table '" + table + "' is not declared under lookups ("
                        + (p.lookups() == null ? "none are" : String.join(", ", p.lookups().keySet())) + ")", key);
            }
        }
        for (String path : rule.allPaths()) {
            if (path != null && Hl7Path.isValid(path)) {
                path(ctx, path, name, key);
            }
        }
    }

    /** The path against each message structure, from where the rule reads it. */
    private void path(Context ctx, String text, String name, String... key) {
        Hl7Path path = Hl7Path.parse(text);
        int[] parts = path.writtenComponents();
        for (MessageStructure s : structures) {
            List<String> groups = new ArrayList<>();
            Optional<List<String>> line = p.line() == null || p.line().group() == null ? Optional.empty()
                    : s.findGroup(p.line().group());
            boolean inLine = ctx.line() && !path.absolute() && model.inLine(path.firstStep());
            if (inLine && line.isEmpty()) {
                continue; // the line group itself is reported
            }
            String problem;
            if (ctx.each() != null && path.inUnit(ctx.each())) { // read from the device's own repetition
                groups.addAll(line.get());
                groups.addAll(Arrays.asList(ctx.each()).subList(0, ctx.each().length - 1));
                problem = s.check(groups, path.segment(), path.field(), parts[0], parts[1]);
                if (problem != null && ctx.each().length == 1
                        && s.check(List.of(), path.segment(), path.field(), parts[0], parts[1]) == null) {
                    problem = null; // a root segment HAPI parses into the line (v2.3 OBX after its FT1)
                }
            } else {
                if (inLine) {
                    groups.addAll(line.get());
                }
                groups.addAll(path.groupNames());
                problem = s.check(groups, path.segment(), path.field(), parts[0], parts[1]);
                if (problem == null && ctx.each() != null && inLine
                        && (path.hasGroups() || path.segment().equals(ctx.each()[ctx.each().length - 1]))) {
                    // it would read the line's first repetition: every device would get the same value
                    String each = String.join("/", ctx.each());
                    problem = "not read from each device's own " + each + " but from the line's first repetition,"
                            + " the same for every device: name a field of " + each + " (" + each + "-n or "
                            + ctx.each()[ctx.each().length - 1] + "-n), a field of the line outside the device"
                            + " (FT1-n), or a message field with a leading /";
                }
            }
            if (problem != null) {
                add(name + ": '" + text + "': " + problem, key);
            }
        }
    }

    /** {@code line.devices[0].udi} for the key path line, devices, 0, udi. */
    private static String display(String... key) {
        StringBuilder out = new StringBuilder();
        for (String step : key) {
            if (step.matches("\\d+")) {
                out.append('[').append(step).append(']');
            } else {
                out.append(out.isEmpty() ? "" : ".").append(step);
            }
        }
        return out.toString();
    }

    private static String[] append(String[] key, String last) {
        String[] longer = Arrays.copyOf(key, key.length + 1);
        longer[key.length] = last;
        return longer;
    }

    private void add(String text, String... key) {
        KeyProblem problem = new KeyProblem(List.of(key), text);
        if (!problems.contains(problem)) {
            problems.add(problem);
        }
    }
}
