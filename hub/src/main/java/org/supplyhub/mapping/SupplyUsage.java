package org.supplyhub.mapping;

import com.fasterxml.jackson.annotation.JsonFormat;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * The canonical form of one procedure supply usage message: what was used, on whom, where.
 * Everything downstream (FHIR resources, billing lines, stock movements) is derived from it.
 */
public record SupplyUsage(
        String interfaceId,
        String sender,
        String controlId,
        String messageType,
        Ref patient,
        Assigner patientAuthority,           // CX-4 of the patient identifier, as received (may be null)
        String patientIdType,                // CX-5, e.g. MR (may be null)
        Ref account,
        Ref encounter,
        List<Line> lines) {

    /** A logical reference to something the EHR owns: its identifier system and value. */
    public record Ref(String system, String value) {
        public static Ref of(String system, String value) {
            return value == null || value.isBlank() ? null : new Ref(system, value);
        }
    }

    /** An HL7 HD (assigning authority): namespace id, universal id and its type, as received. */
    public record Assigner(String namespace, String universalId, String universalIdType) {
        public static Assigner of(String namespace, String universalId, String universalIdType) {
            return namespace == null && universalId == null && universalIdType == null ? null
                    : new Assigner(namespace, universalId, universalIdType);
        }
    }

    public enum Kind { CHARGE, CREDIT }

    public record Line(
            int index,                       // 1-based FT1 group repetition, for error locations
            String transactionId,
            Kind kind,
            // kept in the sender's offset through the journal's JSON, so a date stays that date
            @JsonFormat(shape = JsonFormat.Shape.STRING, without = JsonFormat.Feature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            OffsetDateTime serviceDate,
            Ref item,                        // the sender's item code
            String itemText,
            Item master,                     // the item master entry the code resolved to
            BigDecimal quantity,             // signed: negative for credits
            BigDecimal unitPrice,
            BigDecimal extendedPrice,        // signed like quantity
            String currency,
            Ref costCenter,
            Ref location,
            Ref performer,
            Ref procedure,
            String originalTransactionId,    // what a credit reverses
            Implant implant,
            ChronoUnit serviceDatePrecision) { // as sent: DAYS for a date-only FT1-4; null (older journals) = seconds

        public boolean chargeable() {
            return master.chargeable();
        }
    }

    /** One item master row (the inventory system's crosswalk). */
    public record Item(String itemId, String description, String manufacturer, String catalogNumber,
                       String gtin, String unit, boolean chargeable, String chargeCode, String hcpcs,
                       String revenueCode, BigDecimal unitPrice, String sourceCode) { }

    public record Implant(
            String udiCarrier,               // the human-readable form as sent
            String udiIssuer,                // FHIR issuer system of the UDI
            String deviceIdentifier,
            String lot,
            String serial,
            LocalDate expiry,
            LocalDate manufactured,
            String manufacturer,
            String catalogNumber,
            String model,
            String bodySite) { }
}
