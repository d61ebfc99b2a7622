package org.supplyhub.mapping;

import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.DefaultModelClassFactory;
import ca.uhn.hl7v2.parser.ModelClassFactory;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What HAPI's model of the profile's HL7 version and message structures puts at the message root
 * and in the line group: it decides, once at load, whether a line rule's path is read from the
 * line (FT1, PRT, a z-segment) or from the message (MSH, PID, PV1).
 */
final class StructureModel {

    /** No model known: every line path is read from the line, as before profiles named a version. */
    static final StructureModel NONE = new StructureModel(null, null);

    private final Set<String> messageNames;
    private final Set<String> lineNames;

    private StructureModel(Set<String> messageNames, Set<String> lineNames) {
        this.messageNames = messageNames;
        this.lineNames = lineNames;
    }

    /**
     * The names at the root and in {@code lineGroup} over all of {@code messageTypes}
     * ({@code DFT^P03} → structure {@code DFT_P03}). Null if HAPI knows none of them.
     */
    static StructureModel of(String version, List<String> messageTypes, String lineGroup) {
        ModelClassFactory factory = new DefaultModelClassFactory();
        Set<String> root = new HashSet<>();
        Set<String> line = new HashSet<>();
        boolean found = false;
        for (String type : messageTypes) {
            Message message = newMessage(factory, version, type);
            if (message == null) {
                continue;
            }
            found = true;
            root.addAll(Arrays.asList(message.getNames()));
            try {
                if (lineGroup != null && Arrays.asList(message.getNames()).contains(lineGroup)
                        && message.get(lineGroup) instanceof Group g) {
                    line.addAll(Arrays.asList(g.getNames()));
                }
            } catch (Exception e) {
                // no such group in this structure: the loader reports it
            }
        }
        return found ? new StructureModel(Set.copyOf(root), Set.copyOf(line)) : null;
    }

    static Message newMessage(ModelClassFactory factory, String version, String type) {
        String[] parts = type.split("\\^");
        try {
            String structure = parts.length > 1 ? parts[0] + "_" + parts[1] : parts[0];
            String mapped = parts.length > 1 ? factory.getMessageStructureForEvent(structure, ca.uhn.hl7v2.Version.versionOf(version)) : null;
            Class<? extends Message> c = factory.getMessageClass(mapped != null ? mapped : structure, version, true);
            if (c == null) {
                return null;
            }
            return c.getConstructor(ModelClassFactory.class).newInstance(factory);
        } catch (Exception e) {
            return null;
        }
    }

    /** True if the line group has this group or segment. */
    boolean hasLineGroup() {
        return lineNames != null && !lineNames.isEmpty();
    }

    /**
     * A line rule's path reads from the line unless only the message root has its first step:
     * z-segments, which no model knows, stay in the line. (A segment the model puts at the root but
     * the sender puts in the line, like a v2.3 OBX after its FT1, is reached through
     * {@code line.devices: [{ each: OBX … }]}, which always reads the line.)
     */
    boolean inLine(String firstStep) {
        return lineNames == null || lineNames.contains(firstStep) || !messageNames.contains(firstStep);
    }
}
