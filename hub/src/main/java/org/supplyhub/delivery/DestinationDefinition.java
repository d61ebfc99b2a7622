package org.supplyhub.delivery;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A delivery destination, declared in {@code routes/*.yaml} with the {@code outbox-delivery}
 * template: which connector, what it takes (charges, stock movements or FHIR resources), and how
 * hard to try.
 */
public record DestinationDefinition(
        String name,
        String file,
        Connector.Kind connector,
        Output output,
        Path directory,
        java.net.URI url,
        Duration timeout,
        Format format,
        int maxAttempts,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration pollInterval,
        Duration lease,
        int batchSize) {

    /** What a destination is owed for each accepted message. */
    public enum Output {
        /** Billing: one charge line per chargeable usage line (credits as CD lines). */
        CHARGES,
        /** Inventory: one signed stock movement per usage line. */
        STOCK,
        /** A FHIR server: the message's SupplyDelivery, Device and ChargeItem resources. */
        FHIR
    }

    public enum Format { ER7, JSON }
}
