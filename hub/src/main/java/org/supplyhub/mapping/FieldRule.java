package org.supplyhub.mapping;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

/**
 * Where one canonical field lives in the HL7 message, and how its raw value is cleaned up.
 * In a profile it is either a bare Terser path ({@code FT1-7-1}) or an object:
 * <pre>{ path: FT1-6, map: { CG: charge, CD: credit }, default: charge, required: true }</pre>
 * or, for values spread over components, {@code { join: [FT1-16-1, FT1-16-2], separator: "-" }}.
 */
public record FieldRule(String path, List<String> join, String separator, Map<String, String> map,
                        String defaultValue, boolean required, List<Hl7Path> compiled) {

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static FieldRule of(String path) {
        return new FieldRule(path, null, null, null, null, false, compile(path == null ? List.of() : List.of(path)));
    }

    @JsonCreator(mode = JsonCreator.Mode.PROPERTIES)
    public static FieldRule of(@JsonProperty("path") String path, @JsonProperty("join") List<String> join,
                               @JsonProperty("separator") String separator,
                               @JsonProperty("map") Map<String, String> map,
                               @JsonProperty("default") String defaultValue,
                               @JsonProperty("required") Boolean required) {
        List<String> paths = path != null ? List.of(path) : join == null ? List.of() : join;
        return new FieldRule(path, join, separator == null ? "^" : separator, map, defaultValue,
                Boolean.TRUE.equals(required), compile(paths));
    }

    /** Paths parsed once; a malformed one is left out here and reported by the profile check. */
    private static List<Hl7Path> compile(List<String> paths) {
        return paths.stream().filter(Hl7Path::isValid).map(Hl7Path::parse).toList();
    }

    /** The paths this rule reads, in order. */
    public List<String> paths() {
        return path != null ? List.of(path) : join == null ? List.of() : join;
    }

    /** The path reported to the sender when the value is missing or wrong. */
    public String describe() {
        return path != null ? path : String.join("+", paths());
    }
}
