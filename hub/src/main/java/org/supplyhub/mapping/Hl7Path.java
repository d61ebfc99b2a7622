package org.supplyhub.mapping;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.Structure;
import ca.uhn.hl7v2.util.Terser;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Terser path ({@code [GROUP(n)/…]SEG[(n)]-field[(rep)][-component[-subcomponent]]}) parsed once
 * when the profile loads. Reading it walks the message structure directly and never creates
 * structures or throws for a segment the message does not have (a z-segment on a line without an
 * implant): Terser's string API parses the path on every call and throws there, which costs more
 * than the rest of the mapping.
 */
final class Hl7Path {

    static final Pattern SYNTAX = Pattern.compile(
            "^/?([A-Z][A-Z0-9_]*(\\(\\d+\\))?/)*[A-Z][A-Z0-9]{2}(\\(\\d+\\))?-\\d+(\\(\\d+\\))?(-\\d+){0,2}$");
    private static final Pattern STEP = Pattern.compile("([A-Z][A-Z0-9_]*)(?:\\((\\d+)\\))?");
    private static final Pattern SEGMENT = Pattern.compile(
            "([A-Z][A-Z0-9]{2})(?:\\((\\d+)\\))?-(\\d+)(?:\\((\\d+)\\))?(?:-(\\d+))?(?:-(\\d+))?");

    private final String text;
    private final String[] groups;
    private final int[] groupReps;
    private final String segment;
    private final int segmentRep;
    private final int field;
    private final int fieldRep;
    private final int component;
    private final int subcomponent;

    private Hl7Path(String text, String[] groups, int[] groupReps, String segment, int segmentRep, int field,
                    int fieldRep, int component, int subcomponent) {
        this.text = text;
        this.groups = groups;
        this.groupReps = groupReps;
        this.segment = segment;
        this.segmentRep = segmentRep;
        this.field = field;
        this.fieldRep = fieldRep;
        this.component = component;
        this.subcomponent = subcomponent;
    }

    static boolean isValid(String path) {
        return SYNTAX.matcher(path).matches();
    }

    static Hl7Path parse(String path) {
        if (!isValid(path)) {
            throw new IllegalArgumentException("not a Terser path: " + path);
        }
        String[] steps = (path.startsWith("/") ? path.substring(1) : path).split("/");
        List<String> groups = new ArrayList<>();
        List<Integer> reps = new ArrayList<>();
        for (int i = 0; i < steps.length - 1; i++) {
            Matcher m = STEP.matcher(steps[i]);
            m.matches();
            groups.add(m.group(1));
            reps.add(m.group(2) == null ? 0 : Integer.parseInt(m.group(2)));
        }
        Matcher m = SEGMENT.matcher(steps[steps.length - 1]);
        m.matches();
        return new Hl7Path(path, groups.toArray(String[]::new), reps.stream().mapToInt(Integer::intValue).toArray(),
                m.group(1), m.group(2) == null ? 0 : Integer.parseInt(m.group(2)),
                Integer.parseInt(m.group(3)), m.group(4) == null ? 0 : Integer.parseInt(m.group(4)),
                m.group(5) == null ? 1 : Integer.parseInt(m.group(5)), m.group(6) == null ? 1 : Integer.parseInt(m.group(6)));
    }

    /** The same path pointing at another subcomponent of its component (HD-2, HD-3 of a CX-4…). */
    Hl7Path withSubcomponent(int sub) {
        return new Hl7Path(text + "-" + sub, groups, groupReps, segment, segmentRep, field, fieldRep, component, sub);
    }

    /** The value at this path below {@code root} (the message, or one line's group), or null. */
    String read(Group root) {
        try {
            Group group = root;
            for (int i = 0; i < groups.length; i++) {
                Structure next = existing(group, groups[i], groupReps[i]);
                if (!(next instanceof Group g)) {
                    return null;
                }
                group = g;
            }
            Structure s = existing(group, segment, segmentRep);
            if (!(s instanceof Segment seg)) {
                return null;
            }
            String value = Terser.get(seg, field, fieldRep, component, subcomponent);
            return value == null || value.isBlank() ? null : value.trim();
        } catch (HL7Exception e) {
            return null;
        }
    }

    /** The named child if the message has it; never creates one. */
    private static Structure existing(Group group, String name, int rep) throws HL7Exception {
        if (!Arrays.asList(group.getNames()).contains(name)) {
            return null;
        }
        Structure[] all = group.getAll(name);
        return rep < all.length ? all[rep] : null;
    }

    @Override
    public String toString() {
        return text;
    }
}
