package org.supplyhub.mapping;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.Structure;
import ca.uhn.hl7v2.util.Terser;

import java.util.ArrayList;
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

    List<String> groupNames() {
        return List.of(groups);
    }

    /** Component and subcomponent as written, 0 where the path stops before them (for the structure check). */
    int[] writtenComponents() {
        Matcher m = SEGMENT.matcher(text.substring(text.lastIndexOf('/') + 1));
        m.matches();
        return new int[] {m.group(5) == null ? 0 : Integer.parseInt(m.group(5)),
                m.group(6) == null ? 0 : Integer.parseInt(m.group(6))};
    }

    /** True for a path written with a leading {@code /}: always read from the message root. */
    boolean absolute() {
        return text.startsWith("/");
    }

    /** The first step (outermost group, or the segment): what decides whether a line holds it. */
    String firstStep() {
        return groups.length > 0 ? groups[0] : segment;
    }

    String segment() {
        return segment;
    }

    int field() {
        return field;
    }

    /**
     * True if this path names the segment a device rule's {@code each} walks, so it is read from the
     * device's own repetition: written as the segment alone ({@code PRT-10}) or with the same groups
     * as {@code each} ({@code FINANCIAL_PROCEDURE/PRT-10} for {@code each: FINANCIAL_PROCEDURE/PRT}).
     */
    boolean inUnit(String[] each) {
        if (absolute() || !segment.equals(each[each.length - 1])) {
            return false;
        }
        if (groups.length == 0) {
            return true;
        }
        if (groups.length != each.length - 1) {
            return false;
        }
        for (int i = 0; i < groups.length; i++) {
            if (!groups[i].equals(each[i]) || groupReps[i] != 0) {
                return false;
            }
        }
        return true;
    }

    boolean hasGroups() {
        return groups.length > 0;
    }

    /** Level of the segment repetition; {@link #fieldLevel()} is one deeper, groups are 0…n-1. */
    int segmentLevel() {
        return groups.length;
    }

    int fieldLevel() {
        return groups.length + 1;
    }

    /**
     * The deepest repetition level this path shares with {@code other}: the field (same segment
     * and field), the segment, or a common enclosing group; -1 if they share nothing.
     */
    int commonLevel(Hl7Path other) {
        int i = 0;
        while (i < groups.length && i < other.groups.length && groups[i].equals(other.groups[i])) {
            i++;
        }
        if (i == groups.length && i == other.groups.length && segment.equals(other.segment)) {
            return field == other.field ? fieldLevel() : segmentLevel();
        }
        return i - 1;
    }

    /** The value at this path below {@code root} (the message, or one line's group), or null. */
    String read(Group root) {
        return read(root, -1, 0);
    }

    /**
     * The value with the repetition at {@code level} (a group, the segment or the field, see
     * {@link #commonLevel}) replaced by {@code rep}; {@code level} -1 reads the path as written.
     */
    String read(Group root, int level, int rep) {
        try {
            Segment seg = segment(root, level, rep);
            if (seg == null) {
                return null;
            }
            return clean(Terser.get(seg, field, level == fieldLevel() ? rep : fieldRep, component, subcomponent));
        } catch (HL7Exception e) {
            return null;
        }
    }

    /** How many repetitions the message has at {@code level}, the outer levels as written. */
    int count(Group root, int level) {
        try {
            if (level == fieldLevel()) {
                Segment seg = segment(root, -1, 0);
                return seg == null ? 0 : seg.getField(field).length;
            }
            Group group = root;
            for (int i = 0; i < level; i++) {
                if (!(existing(group, groups[i], groupReps[i]) instanceof Group g)) {
                    return 0;
                }
                group = g;
            }
            String name = level == segmentLevel() ? segment : groups[level];
            return has(group, name) ? group.getAll(name).length : 0;
        } catch (HL7Exception e) {
            return 0;
        }
    }

    /** Every repetition of this path's segment below {@code root} (outer groups as written). */
    List<Segment> segments(Group root) {
        int n = count(root, segmentLevel());
        List<Segment> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            try {
                Segment s = segment(root, segmentLevel(), i);
                if (s != null) {
                    all.add(s);
                }
            } catch (HL7Exception e) {
                // a repetition that cannot be read is no value
            }
        }
        return all;
    }

    /** This path's field, component and subcomponent read from {@code seg} ({@code rep} -1: as written). */
    String readIn(Segment seg, int rep) {
        try {
            return clean(Terser.get(seg, field, rep < 0 ? fieldRep : rep, component, subcomponent));
        } catch (HL7Exception e) {
            return null;
        }
    }

    /** How many repetitions of this path's field {@code seg} has. */
    int fieldCount(Segment seg) {
        try {
            return seg.getField(field).length;
        } catch (HL7Exception e) {
            return 0;
        }
    }

    private Segment segment(Group root, int level, int rep) throws HL7Exception {
        Group group = root;
        for (int i = 0; i < groups.length; i++) {
            Structure next = existing(group, groups[i], level == i ? rep : groupReps[i]);
            if (!(next instanceof Group g)) {
                return null;
            }
            group = g;
        }
        Structure s = existing(group, segment, level == segmentLevel() ? rep : segmentRep);
        return s instanceof Segment seg ? seg : null;
    }

    private static String clean(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    /**
     * True if {@code group} has a child of that name (in its structure, or a z-segment added when
     * parsed). HAPI keeps a name → class map for this; {@code getNames()} copies the names each call.
     */
    static boolean has(Group group, String name) {
        return group.getClass(name) != null;
    }

    /** The named child if the message has it; never creates one. */
    static Structure existing(Group group, String name, int rep) throws HL7Exception {
        if (!has(group, name)) {
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
