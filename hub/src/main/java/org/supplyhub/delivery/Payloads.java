package org.supplyhub.delivery;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.v251.message.DFT_P03;
import ca.uhn.hl7v2.util.Terser;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.ChargeItem;
import org.hl7.fhir.r4.model.Device;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.SupplyDelivery;
import org.springframework.stereotype.Component;
import org.supplyhub.ingest.Hl7Support;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.SupplyUsage.Kind;
import org.supplyhub.mapping.SupplyUsage.Line;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.format.DateTimeFormatter;
import java.util.List;

/** Renders what each kind of destination is owed for one accepted message. */
@Component
public class Payloads {

    private static final DateTimeFormatter HL7_TS = DateTimeFormatter.ofPattern("yyyyMMddHHmmssZ");

    private final Hl7Support hl7;
    private final FhirContext fhir;
    private final ObjectMapper json;

    public Payloads(Hl7Support hl7, FhirContext fhir, ObjectMapper json) {
        this.hl7 = hl7;
        this.fhir = fhir;
        this.json = json;
    }

    /** Null when the message owes this destination nothing (no chargeable line for billing). */
    public Connector.Payload render(DestinationDefinition d, long outboxId, long messageId, SupplyUsage usage,
                                    List<String> resources) throws DeliveryException {
        String key = d.name() + "-" + messageId;
        try {
            return switch (d.output()) {
                case CHARGES -> {
                    List<Line> chargeable = usage.lines().stream().filter(Line::chargeable).toList();
                    if (chargeable.isEmpty()) {
                        yield null;
                    }
                    yield d.format() == DestinationDefinition.Format.ER7
                            ? new Connector.Payload(key, messageId, "application/hl7-v2", "hl7",
                                    billingDft(outboxId, usage, chargeable).getBytes(StandardCharsets.UTF_8))
                            : new Connector.Payload(key, messageId, "application/json", "json", chargesJson(usage, chargeable));
                }
                case STOCK -> new Connector.Payload(key, messageId, "application/json", "json", stockJson(usage));
                case FHIR -> new Connector.Payload(key, messageId, "application/fhir+json", "json", transaction(resources));
            };
        } catch (HL7Exception | IOException | RuntimeException e) {
            throw new DeliveryException("cannot render the " + d.output().name().toLowerCase() + " for message "
                    + messageId + ": " + e.getClass().getSimpleName(), "RENDER", true, e);
        }
    }

    /**
     * A DFT^P03 (v2.5.1) with one FT1 per chargeable line, enriched from the item master. MSH-10 is
     * derived from the outbox row, so a retry carries the same control id and the receiver can
     * de-duplicate it.
     */
    String billingDft(long outboxId, SupplyUsage usage, List<Line> lines) throws HL7Exception, IOException {
        DFT_P03 dft = hl7.newMessage(DFT_P03.class);
        dft.initQuickstart("DFT", "P03", "P");
        Terser t = new Terser(dft);
        t.set("MSH-3", "SUPPLYHUB");
        t.set("MSH-4", "HUB");
        t.set("MSH-10", "SH" + outboxId);
        t.set("MSH-18", "UNICODE UTF-8");
        t.set("EVN-1", "P03");
        t.set("EVN-2", dft.getMSH().getDateTimeOfMessage().getTime().getValue());
        t.set("PID-3-1", usage.patient().value());
        if (usage.account() != null) {
            t.set("PID-18-1", usage.account().value());
        }
        if (usage.encounter() != null) {
            t.set("PV1-19-1", usage.encounter().value());
        }
        for (int i = 0; i < lines.size(); i++) {
            Line line = lines.get(i);
            SupplyUsage.Item item = line.master();
            String ft1 = "/FINANCIAL(" + i + ")/FT1-";
            t.set(ft1 + "1", String.valueOf(i + 1));
            t.set(ft1 + "2", line.transactionId());
            if (line.serviceDate() != null) {
                t.set(ft1 + "4", HL7_TS.format(line.serviceDate()));
            }
            t.set(ft1 + "6", line.kind() == Kind.CREDIT ? "CD" : "CG");
            t.set(ft1 + "7-1", item.chargeCode() != null ? item.chargeCode() : line.item().value());
            t.set(ft1 + "7-2", item.description());
            t.set(ft1 + "7-3", "CDM");
            if (item.hcpcs() != null) {
                t.set(ft1 + "7-4", item.hcpcs());
                t.set(ft1 + "7-6", "HCPCS");
            }
            t.set(ft1 + "10", line.quantity().abs().toPlainString());
            if (line.extendedPrice() != null) {
                t.set(ft1 + "11-1-1", line.extendedPrice().abs().toPlainString());
                t.set(ft1 + "11-1-2", line.currency());
            }
            if (line.unitPrice() != null) {
                t.set(ft1 + "12-1-1", line.unitPrice().toPlainString());
                t.set(ft1 + "12-1-2", line.currency());
            }
            if (line.costCenter() != null) {
                t.set(ft1 + "13-1", line.costCenter().value());
            }
            if (line.performer() != null) {
                t.set(ft1 + "20-1", line.performer().value());
            }
            if (line.procedure() != null) {
                t.set(ft1 + "25-1", line.procedure().value());
            }
            if (item.revenueCode() != null) {
                t.set(ft1 + "26-1", item.revenueCode()); // modifier slot carries the UB-04 revenue code
            }
            if (line.kind() == Kind.CREDIT && line.originalTransactionId() != null) {
                t.set(ft1 + "31", line.originalTransactionId());
            }
        }
        return hl7.encode(dft);
    }

    private byte[] chargesJson(SupplyUsage usage, List<Line> lines) throws IOException {
        ArrayNode charges = json.createArrayNode();
        for (Line line : lines) {
            ObjectNode c = charges.addObject();
            c.put("transactionId", line.transactionId());
            c.put("type", line.kind() == Kind.CREDIT ? "credit" : "charge");
            c.put("chargeCode", line.master().chargeCode());
            c.put("hcpcs", line.master().hcpcs());
            c.put("revenueCode", line.master().revenueCode());
            c.put("quantity", line.quantity());
            c.put("unitPrice", line.unitPrice());
            c.put("amount", line.extendedPrice());
            c.put("currency", line.currency());
            c.put("originalTransactionId", line.originalTransactionId());
        }
        ObjectNode root = json.createObjectNode();
        source(root, usage);
        root.set("charges", charges);
        return json.writeValueAsBytes(root);
    }

    /**
     * Stock movements: usage takes stock out (negative quantity), a credit puts it back (positive).
     * The schema is in the README.
     */
    byte[] stockJson(SupplyUsage usage) throws IOException {
        ArrayNode movements = json.createArrayNode();
        for (Line line : usage.lines()) {
            ObjectNode m = movements.addObject();
            m.put("transactionId", line.transactionId());
            m.put("inventoryItemId", line.master().itemId());
            m.put("quantity", line.quantity().negate());
            m.put("unit", line.master().unit());
            m.put("location", line.location() == null ? null : line.location().value());
            m.put("time", line.serviceDate() == null ? null : line.serviceDate().toString());
            if (line.implant() != null) {
                m.put("udi", line.implant().udiCarrier());
                m.put("lot", line.implant().lot());
                m.put("serial", line.implant().serial());
                m.put("expiry", line.implant().expiry() == null ? null : line.implant().expiry().toString());
            }
            m.put("originalTransactionId", line.originalTransactionId());
        }
        ObjectNode root = json.createObjectNode();
        source(root, usage);
        root.set("movements", movements);
        return json.writeValueAsBytes(root);
    }

    private static void source(ObjectNode root, SupplyUsage usage) {
        ObjectNode source = root.putObject("source");
        source.put("interface", usage.interfaceId());
        source.put("sender", usage.sender());
        source.put("controlId", usage.controlId());
    }

    /** A transaction Bundle whose entries are conditional creates on the resources' identifiers. */
    byte[] transaction(List<String> resources) {
        IParser parser = fhir.newJsonParser();
        Bundle bundle = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        for (String text : resources) {
            Resource r = (Resource) parser.parseResource(text);
            Identifier id = r instanceof SupplyDelivery sd ? sd.getIdentifierFirstRep()
                    : r instanceof ChargeItem ci ? ci.getIdentifierFirstRep()
                    : r instanceof Device d ? d.getIdentifierFirstRep() : null;
            Bundle.BundleEntryComponent entry = bundle.addEntry()
                    .setFullUrl("urn:uuid:" + r.getIdElement().getIdPart()).setResource(r);
            entry.getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl(r.fhirType());
            if (id != null && id.hasValue()) {
                entry.getRequest().setIfNoneExist("identifier=" + id.getSystem() + "|" + id.getValue());
            }
        }
        return parser.encodeResourceToString(bundle).getBytes(StandardCharsets.UTF_8);
    }
}
