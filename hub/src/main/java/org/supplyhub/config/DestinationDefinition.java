package org.supplyhub.config;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A delivery destination, declared in {@code routes/*.yaml} with the {@code outbox-delivery}
 * template: which connector, what it takes (charges, stock movements or FHIR resources), and how
 * hard to try: a failing row is retried until it has had {@code maxAttempts} attempts or is
 * {@code maxAge} old, whichever comes first. {@code oauth2Registration} names a
 * {@code spring.security.oauth2.client.registration} (client_credentials) whose token goes with
 * every request; {@code retryRejected} makes an MLLP AR a retry instead of dead (for receivers that
 * answer AR for passing trouble).
 */
public record DestinationDefinition(
        String name,
        String file,
        ConnectorKind connector,
        Output output,
        Path directory,
        java.net.URI url,
        Duration timeout,
        Format format,
        int maxAttempts,
        Duration maxAge,
        Duration initialBackoff,
        Duration maxBackoff,
        Duration pollInterval,
        Duration lease,
        int batchSize,
        String oauth2Registration,
        boolean retryRejected,
        Hl7Receiver receiver) {

    /** MSH-5 / MSH-6 of the DFT a billing destination gets (receivingApplication, receivingFacility). */
    public record Hl7Receiver(String application, String facility) { }

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
