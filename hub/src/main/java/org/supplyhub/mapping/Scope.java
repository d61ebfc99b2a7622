package org.supplyhub.mapping;

import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Segment;

import java.util.List;

/**
 * Where a rule's paths are read: the message, one line (its group repetition), optionally one
 * device (the segment repetitions that make it up) and optionally one pinned repetition (the
 * n-th FT1-19 while a reason's code, text and system are read together).
 */
final class Scope {

    final Group message;
    final Group line;                 // null for message-level rules
    final int index;                  // 1-based line index, 0 at message level
    final StructureModel model;
    final Lookups lookups;
    final String[] unitSteps;         // the device rule's each: groups in the line, then its segment (PRT, OBX…)
    final List<Segment> unit;
    final Hl7Path pin;
    final int pinLevel;
    final int pinRep;

    private Scope(Group message, Group line, int index, StructureModel model, Lookups lookups, String[] unitSteps,
                  List<Segment> unit, Hl7Path pin, int pinLevel, int pinRep) {
        this.message = message;
        this.line = line;
        this.index = index;
        this.model = model;
        this.lookups = lookups;
        this.unitSteps = unitSteps;
        this.unit = unit;
        this.pin = pin;
        this.pinLevel = pinLevel;
        this.pinRep = pinRep;
    }

    static Scope message(Group message, StructureModel model, Lookups lookups) {
        return new Scope(message, null, 0, model, lookups, null, null, null, -1, 0);
    }

    Scope line(Group line, int index) {
        return new Scope(message, line, index, model, lookups, null, null, null, -1, 0);
    }

    Scope device(String[] steps, List<Segment> segments) {
        return new Scope(message, line, index, model, lookups, steps, segments, null, -1, 0);
    }

    /** Paths sharing {@code path}'s repetition at {@code level} read repetition {@code rep} there. */
    Scope pinned(Hl7Path path, int level, int rep) {
        return new Scope(message, line, index, model, lookups, unitSteps, unit, path, level, rep);
    }

    /**
     * The group a path is read from: the message for {@code /}-paths and for segments and groups
     * the line group does not have (MSH, PID, PV1 in a line rule); else the line.
     */
    Group rootFor(Hl7Path path) {
        if (line == null || path.absolute()) {
            return message;
        }
        return model.inLine(path.firstStep()) ? line : message;
    }

    /** True if {@code path} names the segment this device is made of (its rules read from it). */
    boolean inUnit(Hl7Path path) {
        return unit != null && path.inUnit(unitSteps);
    }

    /** A path's value: from the device's segments, the pinned repetition, or as written. */
    String read(Hl7Path path) {
        if (inUnit(path)) {
            for (Segment seg : unit) {
                String v = path.readIn(seg, -1);
                if (v != null) {
                    return v;
                }
            }
            return null;
        }
        Group root = rootFor(path);
        if (pin != null && rootFor(pin) == root) {
            int common = path.commonLevel(pin);
            if (common >= pinLevel) {
                return path.read(root, pinLevel, pinRep);
            }
        }
        return path.read(root);
    }
}
