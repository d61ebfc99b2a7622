package org.supplyhub.safety;

import java.util.Optional;

/** The recall list in force: does a device of this DI, lot and serial fall under a recall? */
public interface RecallIndex {

    /** The recall that covers the device, matching on DI plus lot list or serial range; lot and serial may be null. */
    Optional<Recall> find(String deviceIdentifier, String lot, String serial);

    RecallIndex NONE = (di, lot, serial) -> Optional.empty();
}
