package org.supplyhub.safety;

import java.time.OffsetDateTime;
import java.util.List;

/** Where a serialised device was implanted before, from the journal's device index. */
public interface ImplantHistory {

    /** Earlier accepted uses of the device with this DI and serial, oldest first. */
    List<PriorImplant> implantsOf(String deviceIdentifier, String serial);

    /** One earlier use: which message, which patient (identifier system and value), when, through which interface. */
    record PriorImplant(long messageId, String interfaceId, String patientSystem, String patientValue,
                        OffsetDateTime serviceDate) { }

    ImplantHistory NONE = (di, serial) -> List.of();
}
