package org.supplyhub.mapping;

import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Segment;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One test of a {@code where:} or {@code when:} map: the value at {@code path} is one of
 * {@code values}; {@code "*"} means any non-empty value, {@code ""} means empty.
 */
record Condition(String text, Hl7Path path, Set<String> values) {

    static final String ANY = "*";

    boolean matches(String value) {
        if (value == null) {
            return values.contains("");
        }
        return values.contains(ANY) || values.contains(value);
    }

    boolean matches(Scope scope) {
        return matches(scope.read(path));
    }

    boolean matches(Group root, int level, int rep) {
        return matches(path.read(root, level, rep));
    }

    boolean matches(Segment seg, int fieldRep) {
        return matches(path.readIn(seg, fieldRep));
    }

    /**
     * Conditions from YAML ({@code { OBX-3-1: UDI, PRT-4-1: [IMP, IMPL] }}), in order. A
     * malformed path is left out here and reported by {@link #problems}.
     */
    static List<Condition> of(Map<String, Object> raw) {
        if (raw == null) {
            return List.of();
        }
        List<Condition> all = new ArrayList<>(raw.size());
        raw.forEach((path, values) -> {
            if (path != null && Hl7Path.isValid(path)) {
                all.add(new Condition(path, Hl7Path.parse(path), valueSet(values)));
            }
        });
        return List.copyOf(all);
    }

    /** Syntax problems of a raw condition map, each prefixed with {@code where}. */
    static List<String> problems(String where, Map<String, Object> raw) {
        List<String> problems = new ArrayList<>();
        if (raw == null) {
            return problems;
        }
        raw.forEach((path, values) -> {
            if (path == null || !Hl7Path.isValid(path)) {
                problems.add(where + ": '" + path + "' is not a Terser path like PRT-4-1 or OBX-3-1");
            }
            if (values == null || (values instanceof Collection<?> c && c.isEmpty())) {
                problems.add(where + "." + path + ": needs a value, a list of values or \"*\" (any value)");
            } else if (values instanceof Map<?, ?>) {
                problems.add(where + "." + path + ": a value or a list of values, not a map");
            }
        });
        return problems;
    }

    private static Set<String> valueSet(Object values) {
        if (values instanceof Collection<?> c) {
            return c.stream().filter(v -> v != null).map(v -> v.toString().trim())
                    .collect(java.util.stream.Collectors.toUnmodifiableSet());
        }
        return values == null ? Set.of() : Set.of(values.toString().trim());
    }

    static Map<String, Object> copy(Map<String, Object> raw) {
        return raw == null ? null : new LinkedHashMap<>(raw);
    }
}
