package org.supplyhub.mapping;

import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Segment;
import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A value rule: where one canonical field lives in the HL7 message and how its raw value is
 * cleaned up. In a profile it is a bare Terser path ({@code FT1-7-1}) or an object:
 * <pre>
 * { path: FT1-6, map: { CG: charge, CD: credit }, default: charge, required: true }
 * { path: PID-3-1, where: { PID-3-5: MR } }              # the PID-3 repetition whose CX-5 is MR
 * { path: FT1-7-3, default: C4, lookup: codeSystems }    # through a lookup table
 * { first: [FT1-2, { template: "{MSH-10}-{FT1-1}" }] }  # the first rule with a value
 * { join: [FT1-16-1, FT1-16-2], separator: "-" }
 * </pre>
 * Evaluation order: read (path / join / template / first) → {@code map} → {@code default} →
 * {@code lookup} → {@code required}. Paths are parsed once, when the profile loads.
 */
public final class FieldRule {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]*)}");

    private final String path;
    private final List<String> join;
    private final String separator;
    private final Map<String, String> map;
    private final String defaultValue;
    private final boolean required;
    private final String lookup;
    private final Map<String, Object> where;
    private final List<FieldRule> first;
    private final String template;

    private final Hl7Path compiled;             // path, when valid
    private final List<Hl7Path> joined;          // join paths, when valid
    private final List<Condition> conditions;
    private final int whereLevel;                // the repetition level the conditions select (see Hl7Path.commonLevel)
    private final List<Object> templateParts;    // String literals and Hl7Paths

    private FieldRule(String path, List<String> join, String separator, Map<String, String> map, String defaultValue,
                      boolean required, String lookup, Map<String, Object> where, List<FieldRule> first,
                      String template) {
        this.path = path;
        this.join = join == null ? null : List.copyOf(join);
        this.separator = separator == null ? "^" : separator;
        this.map = map;
        this.defaultValue = defaultValue;
        this.required = required;
        this.lookup = lookup;
        this.where = Condition.copy(where);
        this.first = first == null ? null : List.copyOf(first);
        this.template = template;
        this.compiled = path != null && Hl7Path.isValid(path) ? Hl7Path.parse(path) : null;
        this.joined = join == null ? List.of() : join.stream().filter(p -> p != null && Hl7Path.isValid(p)).map(Hl7Path::parse).toList();
        this.conditions = Condition.of(where);
        int level = Integer.MAX_VALUE;
        for (Condition c : conditions) {
            level = compiled == null ? -1 : Math.min(level, compiled.commonLevel(c.path()));
        }
        this.whereLevel = conditions.isEmpty() ? -1 : level;
        this.templateParts = template == null ? List.of() : parseTemplate(template);
    }

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static FieldRule of(String path) {
        return new FieldRule(path, null, null, null, null, false, null, null, null, null);
    }

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public static FieldRule of(@JsonProperty("path") String path, @JsonProperty("join") List<String> join,
                               @JsonProperty("separator") String separator,
                               @JsonProperty("map") Map<String, String> map,
                               @JsonProperty("default") String defaultValue,
                               @JsonProperty("required") Boolean required,
                               @JsonProperty("lookup") String lookup,
                               @JsonProperty("where") Map<String, Object> where,
                               @JsonProperty("first") List<FieldRule> first,
                               @JsonProperty("template") String template) {
        return new FieldRule(path, join, separator, map, defaultValue, Boolean.TRUE.equals(required), lookup, where,
                first, template);
    }

    /** A constant: what a system written as a plain URI is. */
    static FieldRule constant(String value) {
        return new FieldRule(null, null, null, null, value, false, null, null, null, null);
    }

    public String path() {
        return path;
    }

    public Map<String, String> map() {
        return map;
    }

    public String defaultValue() {
        return defaultValue;
    }

    public boolean required() {
        return required;
    }

    public String lookup() {
        return lookup;
    }

    public String separator() {
        return separator;
    }

    /** True for a rule that reads nothing from the message: a constant. */
    boolean isConstant() {
        return path == null && join == null && first == null && template == null && lookup == null;
    }

    /** The single compiled path of a plain path rule (no where, first, template or join), or null. */
    Hl7Path single() {
        return join == null && first == null && template == null && conditions.isEmpty() ? compiled : null;
    }

    /** True for a path with at most a {@code where}: no map, default, lookup, join, first or template. */
    boolean isPathWithWhere() {
        return path != null && join == null && first == null && template == null && map == null
                && defaultValue == null && lookup == null;
    }

    Map<String, Object> where() {
        return where;
    }

    /**
     * The same rule reading another subcomponent of its path's component ({@code PID-3-4} →
     * {@code PID-3-4-2}), with {@code where} as its conditions: a CX-4's universal id and its type.
     */
    FieldRule atSubcomponent(int sub, Map<String, Object> where) {
        String text = compiled.writtenComponents()[1] > 0 ? path.substring(0, path.lastIndexOf('-')) : path;
        return new FieldRule(text + "-" + sub, null, null, null, null, false, null, where, null, null);
    }

    /** The paths this rule reads values from (path, join, template placeholders, nested rules). */
    public List<String> paths() {
        List<String> all = new ArrayList<>();
        if (path != null) {
            all.add(path);
        }
        if (join != null) {
            all.addAll(join);
        }
        for (Object part : templateParts) {
            if (part instanceof Hl7Path p) {
                all.add(p.toString());
            } else if (part instanceof InvalidPlaceholder bad) {
                all.add(bad.text());
            }
        }
        if (first != null) {
            first.forEach(r -> all.addAll(r.paths()));
        }
        return all;
    }

    /** Every path the rule names, its conditions' included: what the load-time check looks at. */
    List<String> allPaths() {
        List<String> all = new ArrayList<>(paths());
        if (where != null) {
            all.addAll(where.keySet());
        }
        if (first != null) {
            first.forEach(r -> {
                if (r.where != null) {
                    all.addAll(r.where.keySet());
                }
            });
        }
        return all;
    }

    /** Lookup tables this rule (or a nested one) uses. */
    List<String> lookups() {
        List<String> all = new ArrayList<>();
        if (lookup != null) {
            all.add(lookup);
        }
        if (first != null) {
            first.forEach(r -> all.addAll(r.lookups()));
        }
        return all;
    }

    /** Problems of the rule itself, each starting with {@code name}. */
    List<String> problems(String name) {
        List<String> problems = new ArrayList<>();
        int sources = (path != null ? 1 : 0) + (join != null ? 1 : 0) + (first != null ? 1 : 0) + (template != null ? 1 : 0);
        if (sources > 1) {
            problems.add(name + ": use one of path, join, first or template");
        }
        if (sources == 0 && defaultValue == null) {
            problems.add(name + " needs a path, a join, a first, a template or a default");
        }
        for (String p : paths()) {
            if (p == null || !Hl7Path.isValid(p)) {
                problems.add(name + ": '" + p + "' is not a Terser path like PID-3-1 or ZIM-2");
            }
        }
        if (template != null) {
            if (templateParts.stream().noneMatch(Hl7Path.class::isInstance)) {
                problems.add(name + ".template: names no {PATH} placeholder");
            }
        }
        if (where != null) {
            problems.addAll(Condition.problems(name + ".where", where));
            if (path == null) {
                problems.add(name + ".where: needs a path to select a repetition of");
            } else if (whereLevel < 0 && problems.isEmpty()) {
                problems.add(name + ".where: each condition must name a field of the same segment (" + path
                        + ") or of a segment in the same group, to select that repetition");
            }
        }
        if (first != null) {
            if (first.isEmpty()) {
                problems.add(name + ".first: lists no rules");
            }
            for (int i = 0; i < first.size(); i++) {
                problems.addAll(first.get(i).problems(name + ".first[" + i + "]"));
            }
        }
        return problems;
    }

    /** The path reported to the sender when the value is missing or wrong. */
    public String describe() {
        if (path != null) {
            return path;
        }
        if (join != null) {
            return String.join("+", join);
        }
        if (first != null && !first.isEmpty()) {
            return first.get(0).describe();
        }
        if (template != null) {
            return paths().isEmpty() ? template : paths().get(0);
        }
        return "";
    }

    /**
     * The value in {@code scope}: read, mapped, defaulted, looked up. A value the lookup table does
     * not have and a missing required value are {@link MappingException}s naming the field.
     */
    String value(Scope scope) {
        String raw = raw(scope);
        if (raw != null && map != null) {
            String mapped = map.get(raw);
            if (mapped != null) {
                raw = mapped;
            } else if (map.containsKey("*")) {
                raw = map.get("*");
            } // unmapped values pass through; callers check what they need
        }
        if (raw == null) {
            raw = defaultValue;
        }
        if (raw != null && lookup != null) {
            String found = scope.lookups.value(lookup, raw);
            if (found == null) {
                throw new MappingException(describe(), scope.index, ErrorCode.TABLE_VALUE_NOT_FOUND,
                        describe() + at(scope) + ": " + (raw.length() <= 20 ? "'" + raw + "' " : "the value ")
                                + "is not in lookup table " + lookup + " (" + scope.lookups.file(lookup) + ")");
            }
            raw = found;
        }
        if (raw == null && required) {
            throw new MappingException(describe(), scope.index, ErrorCode.REQUIRED_FIELD_MISSING,
                    describe() + at(scope) + ": is required and missing");
        }
        return raw;
    }

    private static String at(Scope scope) {
        return scope.index > 0 ? " (line " + scope.index + ")" : "";
    }

    private String raw(Scope scope) {
        if (first != null) {
            for (FieldRule rule : first) {
                String v = rule.value(scope);
                if (v != null) {
                    return v;
                }
            }
            return null;
        }
        if (template != null) {
            StringBuilder out = new StringBuilder();
            for (Object part : templateParts) {
                if (part instanceof Hl7Path p) {
                    String v = scope.read(p);
                    if (v == null) {
                        return null; // a template is only as good as all its parts
                    }
                    out.append(v);
                } else if (part instanceof String literal) {
                    out.append(literal);
                } else {
                    return null;
                }
            }
            return out.toString();
        }
        if (join != null) {
            StringBuilder joinedValue = new StringBuilder();
            for (Hl7Path p : joined) {
                String part = scope.read(p);
                if (part != null) {
                    if (!joinedValue.isEmpty()) {
                        joinedValue.append(separator);
                    }
                    joinedValue.append(part);
                }
            }
            return joinedValue.isEmpty() ? null : joinedValue.toString();
        }
        if (compiled == null) {
            return null;
        }
        return conditions.isEmpty() ? scope.read(compiled) : readWhere(scope);
    }

    /** The first repetition (field, segment or group, see {@link #whereLevel}) whose conditions match. */
    private String readWhere(Scope scope) {
        if (whereLevel < 0) {
            return null;
        }
        if (scope.inUnit(compiled)) {
            for (Segment seg : scope.unit) {
                if (whereLevel == compiled.fieldLevel()) {
                    int n = compiled.fieldCount(seg);
                    for (int r = 0; r < n; r++) {
                        if (allMatch(seg, r)) {
                            String v = compiled.readIn(seg, r);
                            if (v != null) {
                                return v;
                            }
                        }
                    }
                } else if (allMatch(seg, -1)) {
                    String v = compiled.readIn(seg, -1);
                    if (v != null) {
                        return v;
                    }
                }
            }
            return null;
        }
        Group root = scope.rootFor(compiled);
        int n = compiled.count(root, whereLevel);
        for (int r = 0; r < n; r++) {
            boolean all = true;
            for (Condition c : conditions) {
                if (!c.matches(root, whereLevel, r)) {
                    all = false;
                    break;
                }
            }
            if (all) {
                String v = compiled.read(root, whereLevel, r);
                if (v != null) {
                    return v;
                }
            }
        }
        return null;
    }

    private boolean allMatch(Segment seg, int fieldRep) {
        for (Condition c : conditions) {
            if (!c.matches(seg, fieldRep)) {
                return false;
            }
        }
        return true;
    }

    private static List<Object> parseTemplate(String template) {
        List<Object> parts = new ArrayList<>();
        Matcher m = PLACEHOLDER.matcher(template);
        int at = 0;
        while (m.find()) {
            if (m.start() > at) {
                parts.add(template.substring(at, m.start()));
            }
            String p = m.group(1).trim();
            parts.add(Hl7Path.isValid(p) ? Hl7Path.parse(p) : new InvalidPlaceholder(p));
            at = m.end();
        }
        if (at < template.length()) {
            parts.add(template.substring(at));
        }
        return List.copyOf(parts);
    }

    /** Reported by {@link #problems}; reads as nothing. */
    private record InvalidPlaceholder(String text) { }

    @Override
    public String toString() {
        return describe();
    }
}
