package org.supplyhub.journal;

import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.safety.recall.DeviceIdentifiers;

import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;

/**
 * One row of the device index: a device (DI, lot, serial) used on a line of an accepted message, with
 * the patient it was used on. Devices without a DI are not indexed (nothing to look them up by).
 */
public record DeviceUse(int lineNo, int deviceNo, SupplyUsage.Kind kind, String deviceIdentifier, String lot,
                        String serial, String udiIssuer, LocalDate expiry, String itemId, String patientSystem,
                        String patientValue, String account, OffsetDateTime serviceDate) {

    /** The rows a mapped message adds to the index. */
    public static List<DeviceUse> of(SupplyUsage usage) {
        List<DeviceUse> rows = new ArrayList<>();
        for (SupplyUsage.Line line : usage.lines()) {
            int n = 0;
            for (SupplyUsage.Implant implant : line.implants()) {
                n++;
                String di = DeviceIdentifiers.normalize(implant.deviceIdentifier());
                if (di == null) {
                    continue;
                }
                rows.add(new DeviceUse(line.index(), n, line.kind(), di, DeviceIdentifiers.production(implant.lot()),
                        DeviceIdentifiers.production(implant.serial()), implant.udiIssuer(), implant.expiry(),
                        line.master() == null ? null : line.master().itemId(),
                        usage.patient() == null ? null : usage.patient().system(),
                        usage.patient() == null ? null : usage.patient().value(),
                        usage.account() == null ? null : usage.account().value(), line.serviceDate()));
            }
        }
        return rows;
    }
}
