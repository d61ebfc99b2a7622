package org.supplyhub.mapping.structure;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Version;
import ca.uhn.hl7v2.model.Composite;
import ca.uhn.hl7v2.model.GenericMessage;
import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.Structure;
import ca.uhn.hl7v2.model.Type;
import ca.uhn.hl7v2.model.Varies;
import ca.uhn.hl7v2.parser.DefaultModelClassFactory;
import ca.uhn.hl7v2.parser.ModelClassFactory;
import org.supplyhub.mapping.structure.MessageStructure.Datatype;
import org.supplyhub.mapping.structure.MessageStructure.GroupNode;
import org.supplyhub.mapping.structure.MessageStructure.Node;
import org.supplyhub.mapping.structure.MessageStructure.SegmentNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * Message structures by HL7 version and message type, read from HAPI's model classes (the
 * {@code hapi-structures-v2x} jars on the class path) and cached.
 *
 * <p><b>Fields HAPI does not know.</b> HAPI's models follow the first release of each version, so
 * a few segments stop short of the standard that senders use: HAPI's v2.8 PRT ends at PRT-15,
 * while v2.8.2 added the UDI fields PRT-16 to PRT-22 (and v2.9 PRT-23, PRT-24) that device feeds
 * send under "2.8". Such fields still parse (HAPI keeps them as extra fields and Terser reads them
 * by number), so refusing them would refuse real feeds. {@link #STANDARD_EXTRA_FIELDS} lists, for
 * those segments only, the standard's datatypes of the fields after HAPI's last; a path may name
 * them and its components are checked against that datatype (as HAPI defines it for the version).
 * Any other field beyond HAPI's model is an error.
 */
public final class MessageStructures {

    /**
     * Version → segment → datatypes of the standard's fields after HAPI's last one, in order.
     * PRT: 16 UDI device identifier (EI), 17 manufacture date (DTM), 18 expiry date (DTM),
     * 19 lot number (ST), 20 serial number (ST), 21 donation identification (EI), 22 device type
     * (CNE), 23 preferred method of contact (CWE), 24 contact identifiers (PLN).
     */
    static final Map<String, Map<String, List<String>>> STANDARD_EXTRA_FIELDS = Map.of(
            "2.8", Map.of("PRT", List.of("EI", "DTM", "DTM", "ST", "ST", "EI", "CNE", "CWE", "PLN")));

    private static final ModelClassFactory MODELS = new DefaultModelClassFactory();
    private static final Map<String, MessageStructure> STRUCTURES = new ConcurrentHashMap<>();

    private MessageStructures() {
    }

    /** The HL7 versions HAPI has models for on this class path (e.g. 2.3, 2.5.1, 2.8). */
    public static List<String> versions() {
        return Version.availableVersions().stream().map(Version::getVersion).toList();
    }

    /**
     * The structure of {@code messageType} in HL7 {@code version}.
     *
     * @param version     e.g. {@code 2.8}
     * @param messageType {@code DFT^P03}, {@code ADT^A04^ADT_A01} (MSH-9 style) or a structure name {@code DFT_P03}
     * @throws UnknownMessageStructureException for a version HAPI has no model for, or a type the version does not define
     */
    public static MessageStructure of(String version, String messageType) {
        Version v = Version.versionOf(version);
        if (v == null || !Version.availableVersions().contains(v)) {
            throw new UnknownMessageStructureException("HL7 version " + version + " is not supported (known: "
                    + String.join(", ", versions()) + ")");
        }
        String structure = structureName(v, messageType);
        return STRUCTURES.computeIfAbsent(v.getVersion() + "|" + structure, key -> read(v, messageType, structure));
    }

    private static String structureName(Version version, String messageType) {
        String[] parts = messageType.trim().split("\\^");
        if (parts.length >= 3 && !parts[2].isBlank()) {
            return parts[2];
        }
        String event = parts.length == 2 ? parts[0] + "_" + parts[1] : parts[0];
        try {
            String mapped = MODELS.getMessageStructureForEvent(event, version);
            return mapped == null ? event : mapped;
        } catch (HL7Exception e) {
            return event;
        }
    }

    private static MessageStructure read(Version version, String messageType, String structure) {
        try {
            Class<? extends Message> type = MODELS.getMessageClass(structure, version.getVersion(), true);
            if (type == null || GenericMessage.class.isAssignableFrom(type)) { // HAPI's stand-in for "no such structure"
                throw new UnknownMessageStructureException("message type " + messageType + " is not defined in HL7 v"
                        + version.getVersion() + " (no structure " + structure + ")");
            }
            Message message = type.getConstructor(ModelClassFactory.class).newInstance(MODELS);
            Map<String, SegmentNode> segments = new ConcurrentHashMap<>();
            return new MessageStructure(version.getVersion(), structure,
                    group(message, structure, false, message, segments));
        } catch (ReflectiveOperationException | HL7Exception e) {
            throw new UnknownMessageStructureException("HAPI cannot build " + structure + " of HL7 v"
                    + version.getVersion() + ": " + e.getMessage());
        }
    }

    private static GroupNode group(Group group, String name, boolean repeating, Message message,
                                   Map<String, SegmentNode> segments) throws HL7Exception {
        Map<String, Node> children = new LinkedHashMap<>();
        for (String child : group.getNames()) {
            Structure s = group.get(child); // creates the first repetition of an empty model: harmless here
            boolean repeats = group.isRepeating(child);
            if (s instanceof Group g) {
                children.put(child, group(g, child, repeats, message, segments));
            } else {
                Segment segment = (Segment) s;
                SegmentNode known = segments.computeIfAbsent(segment.getName(), n -> segment(segment, message));
                children.put(child, new SegmentNode(child, repeats, known.fields(), known.hapiFields()));
            }
        }
        return new GroupNode(name, repeating, Collections.unmodifiableMap(children));
    }

    private static SegmentNode segment(Segment segment, Message message) {
        List<Datatype> fields = new ArrayList<>();
        for (int n = 1; n <= segment.numFields(); n++) {
            fields.add(fieldType(segment, n));
        }
        int hapiFields = fields.size();
        List<String> extra = STANDARD_EXTRA_FIELDS.getOrDefault(message.getVersion(), Map.of())
                .getOrDefault(segment.getName(), List.of());
        for (String datatype : extra) {
            fields.add(standardType(datatype, message));
        }
        return new SegmentNode(segment.getName(), false, List.copyOf(fields), hapiFields);
    }

    private static Datatype fieldType(Segment segment, int n) {
        try {
            return datatype(segment.getField(n, 0), 0);
        } catch (HL7Exception | RuntimeException e) {
            return new Datatype("?", List.of(), true); // HAPI cannot make one: leave its components unchecked
        }
    }

    private static Datatype standardType(String name, Message message) {
        try {
            Class<? extends Type> type = MODELS.getTypeClass(name, message.getVersion());
            return datatype(type.getConstructor(Message.class).newInstance(message), 0);
        } catch (HL7Exception | ReflectiveOperationException | RuntimeException e) {
            return new Datatype(name, List.of(), true);
        }
    }

    /** Component structure down to subcomponents (depth 2); deeper nesting is not addressable by a path. */
    private static Datatype datatype(Type type, int depth) {
        if (type instanceof Varies) {
            return new Datatype(type.getName(), List.of(), true);
        }
        if (type instanceof Composite composite && depth < 2) {
            return new Datatype(type.getName(), Arrays.stream(composite.getComponents())
                    .map(c -> datatype(c, depth + 1))
                    .collect(Collectors.toUnmodifiableList()), false);
        }
        return new Datatype(type.getName(), List.of(), false);
    }
}
