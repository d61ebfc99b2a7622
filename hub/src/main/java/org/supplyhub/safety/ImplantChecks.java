package org.supplyhub.safety;

import ca.uhn.hl7v2.ErrorCode;
import org.supplyhub.mapping.MappingException;
import org.supplyhub.mapping.MappingProfile;
import org.supplyhub.mapping.MappingProfile.SafetyAction;
import org.supplyhub.mapping.MappingProfile.SafetyRule;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.SupplyUsage.Flag;
import org.supplyhub.mapping.SupplyUsage.Implant;
import org.supplyhub.mapping.SupplyUsage.Kind;
import org.supplyhub.mapping.SupplyUsage.Line;

import java.time.Clock;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The implant checks of issue 15 over a mapped usage, and what the profile's {@code safety} section
 * makes of each finding: nothing ({@code accept}), a {@link Flag} on the usage ({@code flag}: still
 * AA), or a {@link MappingException} naming the device's field ({@code reject}: AE, re-mappable).
 * <ul>
 *   <li><b>expired</b>: the device's expiry (UDI AI 17, where YYMM00 is the month's last day, or the
 *   profile's expiry field) is before the line's service date; a device is usable through its expiry day.</li>
 *   <li><b>recalled</b>: the recall list has the DI with the device's lot or serial.</li>
 *   <li><b>suspect</b>: the DI is a GTIN other than the item master's for the line's item; the DI and
 *   serial were implanted before in another patient, or in the same patient at another time (or
 *   twice in this message). The same patient and service time is the same implantation reported
 *   again (a duplicate, or a second feed), not a second use.</li>
 * </ul>
 * Credit lines are not checked: a returned device was not implanted. Thread-safe.
 */
public final class ImplantChecks {

    /** Where a device field was read from, for the AE of a rejected device (see {@code UsageMapper.devicePath}). */
    @FunctionalInterface
    public interface DevicePaths {
        String path(String field);
    }

    private final RecallIndex recalls;
    private final ImplantHistory history;
    private final Clock clock;

    public ImplantChecks(RecallIndex recalls, ImplantHistory history, Clock clock) {
        this.recalls = Objects.requireNonNull(recalls);
        this.history = Objects.requireNonNull(history);
        this.clock = Objects.requireNonNull(clock);
    }

    /** Checks that find nothing: for tools that run without the recall list and the journal. */
    public static final ImplantChecks OFFLINE = new ImplantChecks(RecallIndex.NONE, ImplantHistory.NONE, Clock.systemUTC());

    /**
     * The usage with the flags its devices earn under {@code policy}.
     *
     * @param self the journal id of the message being mapped again (reprocess), whose own earlier
     *             uses are not "seen before"; null for a message not yet journaled
     * @throws MappingException for the first finding whose check the policy rejects
     */
    public SupplyUsage check(SupplyUsage usage, MappingProfile.Safety policy, Long self, DevicePaths paths) {
        OffsetDateTime now = OffsetDateTime.now(clock).withOffsetSameInstant(ZoneOffset.UTC).truncatedTo(ChronoUnit.MILLIS);
        List<Flag> flags = new ArrayList<>();
        Set<String> seenHere = new HashSet<>();
        for (Line line : usage.lines()) {
            if (line.kind() == Kind.CREDIT) {
                continue;
            }
            for (int d = 0; d < line.implants().size(); d++) {
                Implant device = line.implants().get(d);
                for (Finding f : findings(usage, line, device, seenHere, self)) {
                    SafetyRule rule = policy.rule(f.check());
                    if (rule.action() == SafetyAction.accept) {
                        continue;
                    }
                    if (rule.action() == SafetyAction.reject) {
                        String path = paths.path(f.field());
                        throw new MappingException(path, line.index(), f.errorCode(), path + " (line " + line.index()
                                + "): " + f.detail() + " (safety." + f.check() + ": reject)");
                    }
                    flags.add(new Flag(f.check(), f.reason(), line.index(), d, f.severity(), f.detail(),
                            rule.holdCharge(), now, f.recallNumber()));
                }
            }
        }
        return flags.isEmpty() ? usage : usage.withFlags(flags);
    }

    /** What one check found about one device; {@code field} is the device field an AE points at. */
    record Finding(String check, String reason, String severity, String field, ErrorCode errorCode, String detail,
                   String recallNumber) { }

    private List<Finding> findings(SupplyUsage usage, Line line, Implant device, Set<String> seenHere, Long self) {
        List<Finding> found = new ArrayList<>(1);
        String di = device.deviceIdentifier();
        LocalDate usedOn = line.serviceDate() == null ? null : line.serviceDate().toLocalDate();
        if (device.expiry() != null && usedOn != null && device.expiry().isBefore(usedOn)) {
            found.add(new Finding("expired", "expired", "high", "expiry", ErrorCode.DATA_TYPE_ERROR,
                    "device " + describe(device) + " expired on " + device.expiry() + ", before its use on " + usedOn, null));
        }
        if (di != null) {
            Optional<Recall> recall = recalls.find(di, device.lot(), device.serial());
            recall.ifPresent(r -> found.add(new Finding("recalled", "recalled",
                    r.recallClass() == Recall.RecallClass.I ? "high" : "moderate",
                    device.lot() != null ? "lot" : "serial", ErrorCode.DATA_TYPE_ERROR,
                    "device " + describe(device) + " is under recall " + r.number() + " (class " + r.recallClass()
                            + (r.date() == null ? "" : ", " + r.date()) + ")" + (r.text() == null ? "" : ": " + r.text()),
                    r.number())));
        }
        if (line.master() != null && !line.master().knowsDeviceIdentifier(di)) {
            found.add(new Finding("suspect", "di-mismatch", "high", "deviceIdentifier", ErrorCode.DATA_TYPE_ERROR,
                    "device identifier " + di + " does not match the item master GTIN " + line.master().gtin()
                            + " of item " + line.master().itemId(), null));
        }
        if (di != null && device.serial() != null) {
            Finding serial = serialSeen(usage, line, device, self);
            if (serial == null && !seenHere.add(di + "|" + device.serial())) {
                serial = new Finding("suspect", "serial-reused", "moderate", "serial", ErrorCode.DUPLICATE_KEY_IDENTIFIER,
                        "device " + describe(device) + " appears on more than one line of this message", null);
            }
            if (serial != null) {
                found.add(serial);
            }
        }
        return found;
    }

    /**
     * An earlier accepted use of the same DI and serial (never the message's own, when it is mapped
     * again): in another patient, or in this patient by another message. Names neither.
     */
    private Finding serialSeen(SupplyUsage usage, Line line, Implant device, Long self) {
        for (ImplantHistory.PriorImplant prior : history.implantsOf(device.deviceIdentifier(), device.serial())) {
            if (self != null && prior.messageId() == self) {
                continue;
            }
            boolean samePatient = usage.patient() != null && Objects.equals(prior.patientValue(), usage.patient().value())
                    && (prior.patientSystem() == null || usage.patient().system() == null
                        || prior.patientSystem().equals(usage.patient().system()));
            if (samePatient && sameUse(usage, line, prior)) {
                // the same implantation reported again under a new control id (a sender's duplicate):
                // not a second use of the device; its FHIR resources are the same ones (transaction id)
                continue;
            }
            // this text reaches the sender's ERR, the patient's DetectedIssue and the flag row: it names no
            // other message, interface or date (each points at another patient's record); an operator finds
            // the earlier use with GET /api/devices (messages:read)
            if (!samePatient) {
                return new Finding("suspect", "serial-other-patient", "high", "serial", ErrorCode.DUPLICATE_KEY_IDENTIFIER,
                        "device " + describe(device) + " was implanted earlier in another patient", null);
            }
            return new Finding("suspect", "serial-reused", "moderate", "serial", ErrorCode.DUPLICATE_KEY_IDENTIFIER,
                    "device " + describe(device) + " was implanted earlier in this patient", null);
        }
        return null;
    }

    /**
     * The same service instant (for the same patient): one implantation, however often and through
     * whichever interface it is reported.
     */
    private static boolean sameUse(SupplyUsage usage, Line line, ImplantHistory.PriorImplant prior) {
        return prior.serviceDate() != null && line.serviceDate() != null
                && prior.serviceDate().toInstant().equals(line.serviceDate().toInstant());
    }

    /** DI, lot and serial: the device's identity, never the patient's. */
    private static String describe(Implant d) {
        StringBuilder s = new StringBuilder(d.deviceIdentifier() == null ? "without DI" : "DI " + d.deviceIdentifier());
        if (d.lot() != null) {
            s.append(" lot ").append(d.lot());
        }
        if (d.serial() != null) {
            s.append(" serial ").append(d.serial());
        }
        return s.toString();
    }
}
