package org.supplyhub.mapping;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonFormat;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.List;

/**
 * The canonical form of one procedure supply usage message: what was used, on whom, where.
 * Everything downstream (FHIR resources, billing lines, stock movements) is derived from it.
 * Its journaled JSON starts with the {@link RenderSpec} it was taken in with, which is not a field of
 * the usage: ignored here explicitly, so any reader of the journal can read a usage back.
 */
@JsonIgnoreProperties({RenderSpec.PROPERTY})
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
        List<Line> lines,
        List<Integer> skippedLines,          // line indexes the profile's classify rules skip (null in older journals)
        @JsonInclude(JsonInclude.Include.NON_EMPTY)
        List<Flag> flags) {                  // implant safety flags raised on the lines (null in older journals)

    public SupplyUsage {
        skippedLines = skippedLines == null ? List.of() : List.copyOf(skippedLines);
        flags = flags == null ? List.of() : List.copyOf(flags);
    }

    public SupplyUsage(String interfaceId, String sender, String controlId, String messageType, Ref patient,
                       Assigner patientAuthority, String patientIdType, Ref account, Ref encounter, List<Line> lines,
                       List<Integer> skippedLines) {
        this(interfaceId, sender, controlId, messageType, patient, patientAuthority, patientIdType, account, encounter,
                lines, skippedLines, List.of());
    }

    /** The same usage with these flags (what the implant checks found). */
    public SupplyUsage withFlags(List<Flag> found) {
        return new SupplyUsage(interfaceId, sender, controlId, messageType, patient, patientAuthority, patientIdType,
                account, encounter, lines, skippedLines, found);
    }

    /** True when a flag holds the charge of line {@code index}: billing gets it only once the flag is released. */
    public boolean chargeHeld(int index) {
        for (Flag f : flags) {
            if (f.holdCharge() && f.line() == index) {
                return true;
            }
        }
        return false;
    }

    /**
     * An implant safety flag (issue 15): a device of line {@code line} (1-based) failed a check the
     * profile says to flag. {@code check} is expired, recalled or suspect; {@code reason} the finding
     * (expired, recalled, di-mismatch, serial-other-patient, serial-reused); {@code device} the
     * 0-based index among the line's devices; {@code identified} when the check ran. Part of the
     * canonical usage, so the DetectedIssue and the held charge are functions of what was journaled.
     */
    public record Flag(String check, String reason, int line, int device, String severity, String detail,
                       boolean holdCharge,
                       @JsonFormat(shape = JsonFormat.Shape.STRING, without = JsonFormat.Feature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
                       OffsetDateTime identified,
                       String recallNumber) { }

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

    /**
     * What a line is. {@code SUPPLY}: a stock item used on the patient (SupplyDelivery, stock
     * movement, ChargeItem). {@code SERVICE}: billed but not taken from stock (an exam, a visit, an
     * item the item master marks {@code stock=false}): ChargeItem and billing only.
     */
    public enum Use { SUPPLY, SERVICE }

    /** A code and the URI of its system (resolved through the profile's systems and lookup tables). */
    public record Coding(String system, String code, String display) {
        public static Coding of(String system, String code, String display) {
            return code == null || code.isBlank() ? null : new Coding(system, code, display);
        }
    }

    /**
     * One usage line. Fields added after the first release are nullable: a journal row written
     * before them reads back with null, which means the old behaviour (a {@code SUPPLY} line).
     */
    public record Line(
            int index,                       // 1-based FT1 group repetition, for error locations
            String transactionId,
            Kind kind,
            // kept in the sender's offset through the journal's JSON, so a date stays that date
            @JsonFormat(shape = JsonFormat.Shape.STRING, without = JsonFormat.Feature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            OffsetDateTime serviceDate,
            Ref item,                        // the sender's item code; system as sent (FT1-7-3), for the item master key
            String itemText,
            Item master,                     // the item master entry the code resolved to; null for a service it does not know
            BigDecimal quantity,             // signed: negative for credits
            BigDecimal unitPrice,
            BigDecimal extendedPrice,        // signed like quantity
            String currency,
            Ref costCenter,
            Ref location,
            Ref performer,
            Ref procedure,
            String originalTransactionId,    // what a credit reverses
            // the devices used on this line (implants); a journal row of the first release has one "implant"
            @JsonAlias("implant") @JsonFormat(with = JsonFormat.Feature.ACCEPT_SINGLE_VALUE_AS_ARRAY)
            List<Implant> implants,
            ChronoUnit serviceDatePrecision, // as sent: DAYS for a date-only FT1-4; null (older journals) = seconds
            Use use,                         // null (older journals) = SUPPLY
            String itemSystemUri,            // FHIR system of the item code, when the profile resolves one
            @JsonFormat(shape = JsonFormat.Shape.STRING, without = JsonFormat.Feature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            OffsetDateTime enteredDate,      // FT1-5
            ChronoUnit enteredDatePrecision,
            List<Coding> reasons,            // FT1-19 diagnoses
            Ref enterer,                     // FT1-24
            Ref performingOrganization,      // FT1-32
            Ref orderingOrganization,        // FT1-33
            Coding ndc,                      // FT1-29
            List<String> notes) {            // NTE-3 of the line

        public Line {
            implants = implants == null ? List.of() : List.copyOf(implants);
            reasons = reasons == null ? List.of() : List.copyOf(reasons);
            notes = notes == null ? List.of() : List.copyOf(notes);
            use = use == null ? Use.SUPPLY : use;
        }

        public boolean chargeable() {
            return master == null || master.chargeable();
        }

        /** True when the line moves stock: a supply line whose item the item master keeps in stock. */
        public boolean movesStock() {
            return use == Use.SUPPLY && master != null && master.keptInStock();
        }

        /** The first device, or null: what a line of the first release carried. */
        public Implant implant() {
            return implants.isEmpty() ? null : implants.get(0);
        }

        public static Builder builder() {
            return new Builder();
        }

        public Builder toBuilder() {
            return new Builder().index(index).transactionId(transactionId).kind(kind).serviceDate(serviceDate, serviceDatePrecision)
                    .item(item).itemText(itemText).master(master).quantity(quantity).unitPrice(unitPrice)
                    .extendedPrice(extendedPrice).currency(currency).costCenter(costCenter).location(location)
                    .performer(performer).procedure(procedure).originalTransactionId(originalTransactionId)
                    .implants(implants).use(use).itemSystemUri(itemSystemUri).enteredDate(enteredDate, enteredDatePrecision)
                    .reasons(reasons).enterer(enterer).performingOrganization(performingOrganization)
                    .orderingOrganization(orderingOrganization).ndc(ndc).notes(notes);
        }

        /** Builds a line by name: the record has too many fields to fill by position. */
        public static final class Builder {
            private int index;
            private String transactionId;
            private Kind kind = Kind.CHARGE;
            private OffsetDateTime serviceDate;
            private ChronoUnit serviceDatePrecision;
            private Ref item;
            private String itemText;
            private Item master;
            private BigDecimal quantity;
            private BigDecimal unitPrice;
            private BigDecimal extendedPrice;
            private String currency;
            private Ref costCenter;
            private Ref location;
            private Ref performer;
            private Ref procedure;
            private String originalTransactionId;
            private List<Implant> implants = List.of();
            private Use use = Use.SUPPLY;
            private String itemSystemUri;
            private OffsetDateTime enteredDate;
            private ChronoUnit enteredDatePrecision;
            private List<Coding> reasons = List.of();
            private Ref enterer;
            private Ref performingOrganization;
            private Ref orderingOrganization;
            private Coding ndc;
            private List<String> notes = List.of();

            public Builder index(int v) { index = v; return this; }
            public Builder transactionId(String v) { transactionId = v; return this; }
            public Builder kind(Kind v) { kind = v; return this; }
            public Builder serviceDate(OffsetDateTime v, ChronoUnit precision) { serviceDate = v; serviceDatePrecision = precision; return this; }
            public Builder item(Ref v) { item = v; return this; }
            public Builder itemText(String v) { itemText = v; return this; }
            public Builder master(Item v) { master = v; return this; }
            public Builder quantity(BigDecimal v) { quantity = v; return this; }
            public Builder unitPrice(BigDecimal v) { unitPrice = v; return this; }
            public Builder extendedPrice(BigDecimal v) { extendedPrice = v; return this; }
            public Builder currency(String v) { currency = v; return this; }
            public Builder costCenter(Ref v) { costCenter = v; return this; }
            public Builder location(Ref v) { location = v; return this; }
            public Builder performer(Ref v) { performer = v; return this; }
            public Builder procedure(Ref v) { procedure = v; return this; }
            public Builder originalTransactionId(String v) { originalTransactionId = v; return this; }
            public Builder implants(List<Implant> v) { implants = v; return this; }
            public Builder use(Use v) { use = v; return this; }
            public Builder itemSystemUri(String v) { itemSystemUri = v; return this; }
            public Builder enteredDate(OffsetDateTime v, ChronoUnit precision) { enteredDate = v; enteredDatePrecision = precision; return this; }
            public Builder reasons(List<Coding> v) { reasons = v; return this; }
            public Builder enterer(Ref v) { enterer = v; return this; }
            public Builder performingOrganization(Ref v) { performingOrganization = v; return this; }
            public Builder orderingOrganization(Ref v) { orderingOrganization = v; return this; }
            public Builder ndc(Coding v) { ndc = v; return this; }
            public Builder notes(List<String> v) { notes = v; return this; }

            public Line build() {
                return new Line(index, transactionId, kind, serviceDate, item, itemText, master, quantity, unitPrice,
                        extendedPrice, currency, costCenter, location, performer, procedure, originalTransactionId,
                        implants, serviceDatePrecision, use, itemSystemUri, enteredDate, enteredDatePrecision, reasons,
                        enterer, performingOrganization, orderingOrganization, ndc, notes);
            }
        }
    }

    /** One item master row (the inventory system's crosswalk). */
    public record Item(String itemId, String description, String manufacturer, String catalogNumber,
                       String gtin, String unit, boolean chargeable, String chargeCode, String hcpcs,
                       String revenueCode, BigDecimal unitPrice, String sourceCode,
                       Boolean stock) {        // column stock: false marks a non-stock service; null (older journals, no column) = true

        public boolean keptInStock() {
            return stock == null || stock;
        }

        /**
         * False when a device identifier is a GTIN (14 digits) and this item's GTIN is another one: the
         * device is not what the item master says was bought. An item without a GTIN knows any DI.
         */
        public boolean knowsDeviceIdentifier(String di) {
            return di == null || gtin == null || di.length() != 14 || !di.chars().allMatch(Character::isDigit)
                    || di.equals(gtin);
        }
    }

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
