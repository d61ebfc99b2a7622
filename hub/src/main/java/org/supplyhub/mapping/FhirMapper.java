package org.supplyhub.mapping;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import org.hl7.fhir.r4.model.Annotation;
import org.hl7.fhir.r4.model.ChargeItem;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DetectedIssue;
import org.hl7.fhir.r4.model.Device;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Money;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.SupplyDelivery;
import org.supplyhub.mapping.SupplyUsage.Kind;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.mapping.SupplyUsage.Ref;

import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.TimeZone;
import java.util.UUID;

/**
 * Canonical usage → the FHIR R4 resources the hub owns: per supply line a SupplyDelivery, a Device
 * per implant and a ChargeItem; per service line a ChargeItem only. Resources the EHR owns are
 * referenced by identifier only. Resource ids are name-based UUIDs of interface, transaction id and
 * type, so mapping the same transaction again yields the same resources.
 *
 * <p>Render version 1 is written by {@link FhirJsonWriter} straight to JSON, byte for byte what HAPI
 * encodes of these resources: a change here must be made there too ({@code FhirJsonWriterOracleTest}
 * fails until it is), and a change to what version 1 produces is a new render version ({@link RenderSpec}).
 */
public final class FhirMapper {

    public static final String HCPCS = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets";
    public static final String FDA_UDI = "http://hl7.org/fhir/NamingSystem/fda-udi";
    public static final String ITEM_MASTER = "urn:supplyhub:item-master";
    public static final String NDC = "http://hl7.org/fhir/sid/ndc";
    static final String SUPPLY_ITEM_TYPE = "http://terminology.hl7.org/CodeSystem/supply-item-type"; // shared with FhirJsonWriter
    /** Identifier type of a Device's catalog (reference) number; R4's identifier-type value set has none. */
    public static final String IDENTIFIER_TYPE = "urn:supplyhub:identifier-type";
    private static final CodeableConcept CATALOG_NUMBER = new CodeableConcept(
            new Coding(IDENTIFIER_TYPE, "catalog-number", "Catalog number")).setText("Catalog number");
    private static final char GS = 0x1d;
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private FhirMapper() {
    }

    /** The resources of {@code usage} with the profile's systems as they are now (see {@link RenderSpec}). */
    public static List<Resource> toFhir(SupplyUsage usage, MappingProfile.Systems systems) {
        return toFhir(usage, RenderSpec.Systems.of(systems));
    }

    public static List<Resource> toFhir(SupplyUsage usage, RenderSpec.Systems systems) {
        List<Resource> out = new ArrayList<>();
        toFhirByLine(usage, systems).forEach(out::addAll);
        return out;
    }

    /**
     * The resources of each of the usage's lines, in the order of {@link SupplyUsage#lines()}.
     * Version 1 of {@link FhirRenderer}: journaled messages are rendered by it later, so what it
     * produces for a given usage and systems must not change; a different rendering is a new version.
     */
    static List<List<Resource>> toFhirByLine(SupplyUsage usage, RenderSpec.Systems systems) {
        List<List<Resource>> byLine = new ArrayList<>(usage.lines().size());
        String txSystem = systems.transaction() != null ? systems.transaction()
                : "urn:supplyhub:" + usage.interfaceId() + ":transaction";
        String source = source(usage.interfaceId(), usage.controlId());
        for (Line line : usage.lines()) {
            List<Resource> out = new ArrayList<>();
            byLine.add(out);
            // a service (the profile's classify, or an item master row with stock=false) is billed but
            // taken from no stock: nothing was supplied
            if (!line.movesStock()) {
                out.add(chargeItem(usage, line, txSystem, source, systems, null, null));
                out.addAll(detectedIssues(usage, line, txSystem, source, List.of()));
                continue;
            }
            List<Device> devices = new ArrayList<>();
            if (line.kind() == Kind.CHARGE) {
                for (int i = 0; i < line.implants().size(); i++) {
                    devices.add(device(usage, line, i, txSystem, source));
                }
            }
            // suppliedItem and product hold one item: the Device when the line used exactly one; with
            // several, the item concept (the line's quantity counts them all), and each Device carries
            // the patient and the line's transaction in its identifier, so none is singled out
            Reference deviceRef = devices.size() == 1
                    ? new Reference("urn:uuid:" + devices.get(0).getIdElement().getIdPart()).setType("Device")
                    : devices.isEmpty() ? returnedDevice(line, txSystem) : null;
            SupplyDelivery delivery = supplyDelivery(usage, line, txSystem, source, systems, deviceRef);
            out.add(delivery);
            out.addAll(devices);
            out.add(chargeItem(usage, line, txSystem, source, systems, deviceRef, delivery));
            out.addAll(detectedIssues(usage, line, txSystem, source, devices));
        }
        return byLine;
    }

    /** Code system of the hub's implant safety findings: one code per check, one per reason. */
    public static final String IMPLANT_SAFETY = "urn:supplyhub:implant-safety";

    /**
     * One DetectedIssue per implant safety flag of the line (issue 15). {@code code}: the hub's
     * finding (expired, recalled, di-mismatch, serial-other-patient, serial-reused). R4's preferred
     * value set (v3 ActCode's detected issue branch) has drug and dosing issues only; the nearest
     * ActCode concepts elsewhere (EXPLOT "expired lot", RECALL "product recalled") are reported as
     * unknown codes by the base R4 validator the hub and its tests use, so a receiver could not
     * rely on them either. {@code implicated}: the Device in the same Bundle, or by
     * identifier when the line renders none. Ids and identifiers are name-based, so a resend maps to
     * the same issue.
     */
    private static List<DetectedIssue> detectedIssues(SupplyUsage usage, Line line, String txSystem, String source,
                                                      List<Device> devices) {
        List<DetectedIssue> out = new ArrayList<>();
        for (SupplyUsage.Flag flag : usage.flags()) {
            if (flag.line() != line.index()) {
                continue;
            }
            String suffix = flag.device() == 0 ? "" : "#" + (flag.device() + 1);
            String key = line.transactionId() + suffix + "#" + flag.reason();
            DetectedIssue issue = new DetectedIssue();
            issue.setId(resourceId(usage.interfaceId(), key, "DetectedIssue"));
            issue.getMeta().setSource(source);
            // the hub's own identifier: the issue is the hub's finding, not the sender's transaction
            issue.addIdentifier(new Identifier().setSystem("urn:supplyhub:" + usage.interfaceId() + ":detected-issue")
                    .setValue(key));
            issue.setStatus(DetectedIssue.DetectedIssueStatus.FINAL);
            CodeableConcept code = new CodeableConcept(new Coding(IMPLANT_SAFETY, flag.reason(), reasonDisplay(flag.reason())));
            code.setText(reasonDisplay(flag.reason()));
            issue.setCode(code);
            issue.setSeverity("high".equals(flag.severity()) ? DetectedIssue.DetectedIssueSeverity.HIGH
                    : "low".equals(flag.severity()) ? DetectedIssue.DetectedIssueSeverity.LOW
                    : DetectedIssue.DetectedIssueSeverity.MODERATE);
            issue.setPatient(ref("Patient", usage.patient()));
            if (flag.identified() != null) {
                issue.setIdentified(new DateTimeType(Date.from(flag.identified().toInstant()), TemporalPrecisionEnum.MILLI,
                        TimeZone.getTimeZone(flag.identified().getOffset())));
            }
            Device device = flag.device() >= 0 && flag.device() < devices.size() ? devices.get(flag.device()) : null;
            issue.addImplicated(device != null
                    ? new Reference("urn:uuid:" + device.getIdElement().getIdPart()).setType("Device")
                    : new Reference().setType("Device").setIdentifier(new Identifier().setSystem(txSystem)
                            .setValue(line.transactionId() + suffix)));
            issue.setDetail(flag.detail());
            if (flag.recallNumber() != null) {
                issue.setReference("urn:supplyhub:recall:" + flag.recallNumber().replaceAll("[^A-Za-z0-9._~-]", "_"));
            }
            out.add(issue);
        }
        return out;
    }

    static String reasonDisplay(String reason) { // shared with FhirJsonWriter
        if (reason == null) {
            return null;
        }
        return switch (reason) {
            case "expired" -> "Implant expired at use";
            case "recalled" -> "Implant under recall";
            case "di-mismatch" -> "Device identifier does not match the item's GTIN";
            case "serial-other-patient" -> "Serial number implanted in another patient";
            case "serial-reused" -> "Serial number implanted before";
            default -> reason;
        };
    }

    /**
     * A returned implant is the Device its original charge created (identified, like that charge, by
     * the original transaction id FT1-31): it is referenced, never created twice. The reference is
     * logical (by identifier) because a FHIR server assigns its own ids to conditional creates.
     */
    private static Reference returnedDevice(Line line, String txSystem) {
        // the original charge's first Device bears its transaction id; several are returned as the item
        if (line.kind() != Kind.CREDIT || line.implants().size() != 1 || line.originalTransactionId() == null) {
            return null;
        }
        return new Reference().setType("Device")
                .setIdentifier(new Identifier().setSystem(txSystem).setValue(line.originalTransactionId()));
    }

    /**
     * {@code meta.source}: the interface and the sender's control id. The control id is any text
     * the sender chose, so it is percent-encoded into a valid URI fragment.
     */
    static String source(String interfaceId, String controlId) {
        StringBuilder sb = new StringBuilder(32 + (controlId == null ? 0 : controlId.length()))
                .append("urn:supplyhub:").append(interfaceId).append('#');
        if (controlId == null) {
            return sb.toString();
        }
        for (int i = 0; i < controlId.length(); i++) {
            char c = controlId.charAt(i);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~!$&'()*+,;=:@/?".indexOf(c) >= 0) {
                sb.append(c);
            } else {
                int end = Character.isHighSurrogate(c) && i + 1 < controlId.length() ? i + 2 : i + 1;
                for (byte b : controlId.substring(i, end).getBytes(StandardCharsets.UTF_8)) {
                    sb.append('%').append(HEX[(b >> 4) & 0xf]).append(HEX[b & 0xf]);
                }
                i = end - 1;
            }
        }
        return sb.toString();
    }

    public static String resourceId(String interfaceId, String transactionId, String type) {
        return UUID.nameUUIDFromBytes((interfaceId + "|" + transactionId + "|" + type)
                .getBytes(StandardCharsets.UTF_8)).toString();
    }

    private static SupplyDelivery supplyDelivery(SupplyUsage usage, Line line, String txSystem, String source,
                                                 RenderSpec.Systems systems, Reference device) {
        SupplyDelivery sd = new SupplyDelivery();
        sd.setId(resourceId(usage.interfaceId(), line.transactionId(), "SupplyDelivery"));
        sd.getMeta().setSource(source);
        sd.addIdentifier(new Identifier().setSystem(txSystem).setValue(line.transactionId()));
        sd.setStatus(SupplyDelivery.SupplyDeliveryStatus.COMPLETED);
        sd.setPatient(ref("Patient", usage.patient()));
        sd.setType(new CodeableConcept(new Coding(SUPPLY_ITEM_TYPE, "device", "Device")));
        SupplyDelivery.SupplyDeliverySuppliedItemComponent item = sd.getSuppliedItem();
        item.setQuantity(quantity(line));
        if (device != null) {
            item.setItem(device.copy());
        } else {
            item.setItem(itemConcept(usage, line, systems));
        }
        if (line.serviceDate() != null) {
            sd.setOccurrence(dateTime(line));
        }
        if (line.location() != null) {
            sd.setDestination(ref("Location", line.location()));
        }
        if (line.performer() != null) {
            sd.addReceiver(ref("Practitioner", line.performer()));
        }
        if (line.kind() == Kind.CREDIT && line.originalTransactionId() != null) {
            sd.addPartOf(new Reference().setType("SupplyDelivery")
                    .setIdentifier(new Identifier().setSystem(txSystem).setValue(line.originalTransactionId())));
        }
        return sd;
    }

    /**
     * The line's {@code n}-th (0-based) device. The first keeps the id and identifier a line with one
     * implant always had; the others are "Device#2", "Device#3"… by id and {@code <transaction>#2}…
     * by identifier, so each is a conditional create of its own and a resend maps to the same ones.
     */
    private static Device device(SupplyUsage usage, Line line, int n, String txSystem, String source) {
        SupplyUsage.Implant implant = line.implants().get(n);
        String suffix = n == 0 ? "" : "#" + (n + 1);
        Device d = new Device();
        d.setId(resourceId(usage.interfaceId(), line.transactionId(), "Device" + suffix));
        d.getMeta().setSource(source);
        d.addIdentifier(new Identifier().setSystem(txSystem).setValue(line.transactionId() + suffix));
        if (implant.deviceIdentifier() != null || implant.udiCarrier() != null) {
            Device.DeviceUdiCarrierComponent udi = d.addUdiCarrier();
            udi.setDeviceIdentifier(implant.deviceIdentifier());
            if (implant.udiIssuer() != null) {
                udi.setIssuer(implant.udiIssuer());
            }
            udi.setJurisdiction(FDA_UDI);
            if (implant.udiCarrier() != null && implant.udiCarrier().indexOf(GS) >= 0) {
                // a GS1 element string with GS separators is the machine-readable form, not the HRF
                udi.setCarrierAIDC(implant.udiCarrier().getBytes(StandardCharsets.UTF_8));
            } else {
                udi.setCarrierHRF(implant.udiCarrier());
            }
        }
        d.setStatus(Device.FHIRDeviceStatus.ACTIVE);
        d.setLotNumber(implant.lot());
        d.setSerialNumber(implant.serial());
        if (implant.manufactured() != null) {
            d.setManufactureDateElement(dateOnly(implant.manufactured()));
        }
        if (implant.expiry() != null) {
            d.setExpirationDateElement(dateOnly(implant.expiry()));
        }
        d.setManufacturer(implant.manufacturer());
        String name = implant.model() != null ? implant.model() : line.master() == null ? null : line.master().description();
        if (name != null) {
            d.addDeviceName().setName(name).setType(implant.model() != null
                    ? Device.DeviceNameType.MODELNAME : Device.DeviceNameType.USERFRIENDLYNAME);
        }
        d.setModelNumber(implant.model());
        if (implant.catalogNumber() != null) {
            // R4 Device has no catalog number element: it is the manufacturer's identifier of the product
            d.addIdentifier(new Identifier().setType(CATALOG_NUMBER.copy()).setValue(implant.catalogNumber())
                    .setAssigner(implant.manufacturer() == null ? null : new Reference().setDisplay(implant.manufacturer())));
        }
        if (line.master() != null) {
            d.setType(new CodeableConcept(new Coding(ITEM_MASTER, line.master().itemId(), line.master().description())));
        }
        if (line.ndc() != null) { // the line's product is this device: its NDC says what it is
            d.getType().addCoding(ndc(line));
        }
        d.setPatient(ref("Patient", usage.patient()));
        return d;
    }

    private static ChargeItem chargeItem(SupplyUsage usage, Line line, String txSystem, String source,
                                         RenderSpec.Systems systems, Reference device, SupplyDelivery delivery) {
        SupplyUsage.Item master = line.master(); // null for a service line the item master does not know
        ChargeItem ci = new ChargeItem();
        ci.setId(resourceId(usage.interfaceId(), line.transactionId(), "ChargeItem"));
        ci.getMeta().setSource(source);
        ci.addIdentifier(new Identifier().setSystem(txSystem).setValue(line.transactionId()));
        ci.setStatus(line.chargeable() ? ChargeItem.ChargeItemStatus.BILLABLE : ChargeItem.ChargeItemStatus.NOTBILLABLE);
        CodeableConcept code = new CodeableConcept();
        if (master != null && master.chargeCode() != null) {
            code.addCoding(new Coding(chargeCodeSystem(usage, systems), master.chargeCode(), master.description()));
        }
        if (master != null && master.hcpcs() != null) {
            code.addCoding(new Coding(HCPCS, master.hcpcs(), null));
        }
        if (code.getCoding().isEmpty()) {
            code.addCoding(new Coding(itemSystem(usage, line, systems), itemCode(line), line.itemText()));
        }
        code.setText(master != null ? master.description() : line.itemText());
        ci.setCode(code);
        ci.setSubject(ref("Patient", usage.patient()));
        if (usage.encounter() != null) {
            ci.setContext(ref("Encounter", usage.encounter()));
        }
        if (usage.account() != null) {
            ci.addAccount(ref("Account", usage.account()));
        }
        if (line.serviceDate() != null) {
            ci.setOccurrence(dateTime(line));
        }
        if (line.performer() != null) {
            ci.addPerformer().setActor(ref("Practitioner", line.performer()));
        }
        if (line.performingOrganization() != null) {
            ci.setPerformingOrganization(ref("Organization", line.performingOrganization()));
        }
        if (line.orderingOrganization() != null) {
            ci.setRequestingOrganization(ref("Organization", line.orderingOrganization()));
        }
        ci.setQuantity(quantity(line));
        if (line.extendedPrice() != null) {
            ci.setPriceOverride(new Money().setValue(line.extendedPrice()).setCurrency(line.currency()));
        }
        if (line.costCenter() != null) {
            ci.setCostCenter(ref("Organization", line.costCenter()));
        }
        if (line.enteredDate() != null) {
            ci.setEnteredDateElement(dateTime(line.enteredDate(), line.enteredDatePrecision()));
        }
        if (line.enterer() != null) {
            ci.setEnterer(ref("Practitioner", line.enterer()));
        }
        for (SupplyUsage.Coding reason : line.reasons()) {
            ci.addReason(new CodeableConcept(coding(reason)));
        }
        if (delivery == null) { // a service: its code says what it is; only a drug's NDC names a product
            if (line.ndc() != null) {
                ci.setProduct(new CodeableConcept(ndc(line)));
            }
        } else if (device != null) {
            ci.setProduct(device.copy());
        } else {
            ci.setProduct(itemConcept(usage, line, systems));
        }
        if (delivery != null) {
            ci.addService(new Reference("urn:uuid:" + delivery.getIdElement().getIdPart()).setType("SupplyDelivery"));
        }
        if (line.kind() == Kind.CREDIT && line.originalTransactionId() != null) {
            ci.addPartOf(new Reference().setType("ChargeItem")
                    .setIdentifier(new Identifier().setSystem(txSystem).setValue(line.originalTransactionId())));
        }
        for (String note : line.notes()) {
            ci.addNote(new Annotation().setText(note));
        }
        return ci;
    }

    private static String chargeCodeSystem(SupplyUsage usage, RenderSpec.Systems systems) {
        return systems.chargeCode() != null ? systems.chargeCode() : "urn:supplyhub:" + usage.interfaceId() + ":charge-code";
    }

    /**
     * The system of the line's item code: the URI the profile resolved for this line (a lookup of
     * the coding system sent), else the profile's item system; a coding system named in the message
     * (FT1-7-3) is no URI.
     */
    private static String itemSystem(SupplyUsage usage, Line line, RenderSpec.Systems systems) {
        if (line.itemSystemUri() != null) {
            return line.itemSystemUri();
        }
        return systems.item() != null ? systems.item() : "urn:supplyhub:" + usage.interfaceId() + ":item";
    }

    private static CodeableConcept itemConcept(SupplyUsage usage, Line line, RenderSpec.Systems systems) {
        CodeableConcept cc = new CodeableConcept();
        cc.addCoding(new Coding(itemSystem(usage, line, systems), itemCode(line), line.itemText()));
        if (line.master() != null) {
            cc.addCoding(new Coding(ITEM_MASTER, line.master().itemId(), line.master().description()));
        }
        if (line.ndc() != null) {
            cc.addCoding(ndc(line));
        }
        cc.setText(line.itemText() != null ? line.itemText() : line.master() == null ? null : line.master().description());
        return cc;
    }

    /** The mapper requires an item code; a usage without one still renders (total: see FhirRenderer). */
    private static String itemCode(Line line) {
        return line.item() == null ? null : line.item().value();
    }

    private static Coding ndc(Line line) {
        return new Coding(line.ndc().system() != null ? line.ndc().system() : NDC, line.ndc().code(), line.ndc().display());
    }

    private static Coding coding(SupplyUsage.Coding c) {
        return new Coding(c.system(), c.code(), c.display());
    }

    private static Quantity quantity(Line line) {
        Quantity q = new Quantity().setValue(line.quantity());
        q.setUnit(line.master() == null ? null : line.master().unit());
        return q;
    }

    private static DateTimeType dateTime(Line line) {
        return dateTime(line.serviceDate(), line.serviceDatePrecision());
    }

    /** A time to the precision sent: a date-only FT1-4 or FT1-5 stays a date. */
    private static DateTimeType dateTime(OffsetDateTime time, ChronoUnit unit) {
        if (unit == ChronoUnit.DAYS) {
            return new DateTimeType(time.toLocalDate().toString());
        }
        TemporalPrecisionEnum precision = unit == ChronoUnit.MILLIS ? TemporalPrecisionEnum.MILLI : TemporalPrecisionEnum.SECOND;
        return new DateTimeType(Date.from(time.toInstant()), precision, TimeZone.getTimeZone(time.getOffset()));
    }

    private static DateTimeType dateOnly(LocalDate date) {
        return new DateTimeType(date.toString());
    }

    private static Reference ref(String type, Ref ref) {
        if (ref == null) {
            return null;
        }
        return new Reference().setType(type).setIdentifier(new Identifier().setSystem(ref.system()).setValue(ref.value()));
    }
}
