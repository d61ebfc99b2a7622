package org.supplyhub.mapping.structure;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * HAPI's model of one message structure (e.g. DFT_P03 of HL7 v2.8): its groups, segments, fields
 * and datatypes, read once from HAPI's model classes by {@link MessageStructures#of}, so a
 * profile's Terser paths can be checked when it loads instead of reading nothing at run time.
 *
 * <p>Paths follow {@code Hl7Path}: each group is a direct child of the one before, starting at the
 * message root, and the segment is a direct child of the last group. Field, component and
 * subcomponent numbers are 1-based; 0 means "not given". Z-segments are allowed in any group and
 * their fields are not checked (no standard defines them).
 */
public final class MessageStructure {

    /** A group or a segment in the structure tree. */
    sealed interface Node permits GroupNode, SegmentNode {
        String name();
    }

    /** A group, with its children in HAPI's order. */
    record GroupNode(String name, boolean repeating, Map<String, Node> children) implements Node {
    }

    /**
     * A segment and the datatype of each field (index 0 is field 1), including fields the
     * standard defines beyond HAPI's model (see {@link MessageStructures}).
     */
    record SegmentNode(String name, boolean repeating, List<Datatype> fields, int hapiFields) implements Node {
    }

    /** A datatype: a primitive has no components; {@code varies} (OBX-5) takes any shape. */
    record Datatype(String name, List<Datatype> components, boolean varies) {
        int componentCount() {
            return components.isEmpty() ? 1 : components.size();
        }

        /** The datatype of component {@code n} (1-based); a primitive's only component is itself. */
        Datatype component(int n) {
            return components.isEmpty() ? this : components.get(n - 1);
        }
    }

    private final String version;
    private final String name;
    private final GroupNode root;

    MessageStructure(String version, String name, GroupNode root) {
        this.version = version;
        this.name = name;
        this.root = root;
    }

    /** The HL7 version, e.g. {@code 2.8}. */
    public String version() {
        return version;
    }

    /** The structure's name, e.g. {@code DFT_P03} (ADT^A04 is {@code ADT_A01}). */
    public String name() {
        return name;
    }

    /**
     * Null if the path exists in this structure, else a one-sentence problem that suggests the
     * nearest real name or says where the name does live.
     *
     * @param groups       group names from the message root (empty: the segment is a child of the root);
     *                     for a path relative to a profile's line group, prepend {@link #findGroup}'s path
     * @param segment      segment name; Z-segments are allowed anywhere and their fields are not checked
     * @param field        field number, from 1
     * @param component    component number, 0 if the path names the whole field
     * @param subcomponent subcomponent number, 0 if not given
     */
    public String check(List<String> groups, String segment, int field, int component, int subcomponent) {
        GroupNode group = root;
        List<String> walked = new ArrayList<>();
        for (String step : groups) {
            Node child = group.children().get(step);
            if (child instanceof SegmentNode) {
                return step + " is a segment, not a group, " + here(walked);
            }
            if (child == null) {
                return missing("group", step, group, walked, GroupNode.class::isInstance);
            }
            group = (GroupNode) child;
            walked.add(step);
        }
        if (segment.startsWith("Z")) {
            return null;
        }
        Node child = group.children().get(segment);
        if (child instanceof GroupNode) {
            return segment + " is a group, not a segment, " + here(walked);
        }
        if (child == null) {
            return missing("segment", segment, group, walked, SegmentNode.class::isInstance);
        }
        return checkField((SegmentNode) child, field, component, subcomponent);
    }

    /** Whether {@code name} (a segment or group) is a child, at any depth, of the group at {@code groupPath} (from the root). */
    public boolean contains(List<String> groupPath, String name) {
        GroupNode group = root;
        for (String step : groupPath) {
            if (!(group.children().get(step) instanceof GroupNode next)) {
                return false;
            }
            group = next;
        }
        return !paths(group, name, n -> true, new ArrayList<>(), new ArrayList<>()).isEmpty();
    }

    /** The path from the root to the first group called {@code name} (depth first, in HAPI's order), including it. */
    public Optional<List<String>> findGroup(String name) {
        return paths(root, name, GroupNode.class::isInstance, new ArrayList<>(), new ArrayList<>()).stream()
                .findFirst()
                .map(parent -> {
                    List<String> path = new ArrayList<>(parent);
                    path.add(name);
                    return List.copyOf(path);
                });
    }

    private String checkField(SegmentNode segment, int field, int component, int subcomponent) {
        String ref = segment.name() + "-" + field;
        if (field < 1) {
            return ref + " does not exist: fields are numbered from 1";
        }
        if (field > segment.fields().size()) {
            return ref + " does not exist: " + segment.name() + " has " + segment.fields().size() + " fields in v" + version;
        }
        Datatype type = segment.fields().get(field - 1);
        if (component <= 0 || type.varies()) {
            return null;
        }
        if (component > type.componentCount()) {
            return ref + "-" + component + " does not exist: " + ref + " is " + describe(type, "components");
        }
        Datatype part = type.component(component);
        if (subcomponent <= 0 || part.varies() || subcomponent <= part.componentCount()) {
            return null;
        }
        String partRef = ref + "-" + component;
        return partRef + "-" + subcomponent + " does not exist: " + partRef + " is " + describe(part, "subcomponents");
    }

    private static String describe(Datatype type, String parts) {
        String article = "AEFHILMNORSX".indexOf(type.name().charAt(0)) >= 0 ? "an " : "a ";
        return type.components().isEmpty()
                ? article + type.name() + ", which has no " + parts
                : article + type.name() + " with " + type.components().size() + " " + parts;
    }

    /** The problem for a group or segment name not found among {@code group}'s children. */
    private String missing(String kind, String name, GroupNode group, List<String> walked, Predicate<Node> ofKind) {
        List<List<String>> elsewhere = paths(root, name, ofKind, new ArrayList<>(), new ArrayList<>());
        if (!elsewhere.isEmpty()) {
            return kind + " " + name + " is not " + here(walked) + "; it is in " + elsewhere.stream()
                    .map(p -> p.isEmpty() ? "the message root" : String.join("/", p))
                    .collect(Collectors.joining(", "));
        }
        String problem = walked.isEmpty()
                ? kind + " " + name + " does not exist in " + where()
                : kind + " " + name + " is not " + here(walked) + " (nor anywhere else in it)";
        Collection<String> siblings = group.children().values().stream().filter(ofKind).map(Node::name).toList();
        Optional<String> near = Names.nearest(name, siblings);
        if (near.isPresent()) {
            return problem + "; did you mean " + near.get() + "?";
        }
        Set<String> all = new LinkedHashSet<>();
        collect(root, ofKind, all);
        near = Names.nearest(name, all);
        if (near.isPresent()) {
            String found = near.get();
            List<String> at = paths(root, found, ofKind, new ArrayList<>(), new ArrayList<>()).get(0);
            return problem + "; did you mean " + found + " (in " + (at.isEmpty() ? "the message root" : String.join("/", at)) + ")?";
        }
        return problem + (siblings.isEmpty() ? "" : "; " + (walked.isEmpty() ? "the root" : "group " + walked.get(walked.size() - 1))
                + " has " + String.join(", ", siblings));
    }

    /** "in DFT_P03 (v2.8)" or "in group FINANCIAL of DFT_P03 (v2.8)". */
    private String here(List<String> walked) {
        return walked.isEmpty() ? "in " + where() : "in group " + walked.get(walked.size() - 1) + " of " + where();
    }

    private String where() {
        return name + " (v" + version + ")";
    }

    /** The paths (group names from the root) of every parent of a node called {@code name} of the wanted kind. */
    private static List<List<String>> paths(GroupNode group, String name, Predicate<Node> ofKind,
                                            List<String> at, List<List<String>> found) {
        for (Node child : group.children().values()) {
            if (child.name().equals(name) && ofKind.test(child)) {
                found.add(List.copyOf(at));
            }
            if (child instanceof GroupNode g) {
                at.add(g.name());
                paths(g, name, ofKind, at, found);
                at.remove(at.size() - 1);
            }
        }
        return found;
    }

    private static void collect(GroupNode group, Predicate<Node> ofKind, Set<String> names) {
        for (Node child : group.children().values()) {
            if (ofKind.test(child)) {
                names.add(child.name());
            }
            if (child instanceof GroupNode g) {
                collect(g, ofKind, names);
            }
        }
    }

    @Override
    public String toString() {
        return where();
    }
}
