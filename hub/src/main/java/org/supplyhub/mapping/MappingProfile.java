package org.supplyhub.mapping;

import java.time.ZoneId;
import java.util.List;

/**
 * A sender's mapping profile, loaded from {@code mappings/*.yaml}: where each canonical field lives
 * in its messages. Message-level paths are absolute Terser paths; line paths are relative to each
 * repetition of the line group (FT1 and the segments that follow it).
 */
public record MappingProfile(
        String name,
        String description,
        Accept accept,
        ZoneId timezone,
        Systems systems,
        MessageFields message,
        LineFields line,
        ItemMasterRef itemMaster) {

    /**
     * Which messages this profile maps, and optionally from which senders (MSH-3^MSH-4, first
     * components); anything else is rejected with AR. No {@code senders}: any sender.
     */
    public record Accept(List<String> messageTypes, List<String> senders) {

        public boolean acceptsSender(String sender) {
            return senders == null || senders.isEmpty() || senders.contains(sender);
        }
    }

    /**
     * Identifier systems of the sender, used for logical references to the resources the EHR owns
     * (Patient, Account, Encounter, Location, Practitioner) and for the identifiers of ours.
     */
    public record Systems(String patient, String account, String encounter, String location,
                          String practitioner, String costCenter, String transaction, String item,
                          String chargeCode, String procedure) { }

    /**
     * {@code patientAuthority} points at the identifier's CX-4 (its HD subcomponents are read
     * from there) and {@code patientIdType} at CX-5; both are kept for the billing DFT's PID-3.
     */
    public record MessageFields(FieldRule patient, FieldRule patientAuthority, FieldRule patientIdType,
                                FieldRule account, FieldRule encounter) { }

    public record LineFields(String group, FieldRule transactionId, FieldRule kind, FieldRule serviceDate,
                             Item item, FieldRule quantity, FieldRule unitPrice, FieldRule extendedPrice,
                             FieldRule currency, FieldRule department, FieldRule location, FieldRule performer,
                             FieldRule procedure, FieldRule originalTransactionId, Implant implant) { }

    public record Item(FieldRule code, FieldRule system, FieldRule text) { }

    public record Implant(FieldRule udi, FieldRule deviceIdentifier, FieldRule lot, FieldRule serial,
                          FieldRule expiry, FieldRule manufactureDate, FieldRule manufacturer,
                          FieldRule catalogNumber, FieldRule model, FieldRule bodySite) { }

    /** The item master crosswalk file and how a line's item is looked up in it. */
    public record ItemMasterRef(String file, String match) { }
}
