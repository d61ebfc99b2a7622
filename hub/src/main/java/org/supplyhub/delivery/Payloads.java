package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.model.v251.message.DFT_P03;
import ca.uhn.hl7v2.util.Terser;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.springframework.stereotype.Component;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.mapping.FhirMapper;
import org.supplyhub.mapping.Hl7Dates;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.SupplyUsage.Kind;
import org.supplyhub.mapping.SupplyUsage.Line;

import org.springframework.beans.factory.annotation.Autowired;
import org.supplyhub.hl7.Er7Writer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.time.Clock;
import java.util.concurrent.atomic.LongAdder;

/** Renders what each kind of destination is owed for one accepted message. */
@Component
public class Payloads {

    private final Hl7Support hl7;
    private final ObjectMapper json;
    /** The billing DFT as ER7 text, without HAPI's message object (see {@link BillingDft}). */
    private final BillingDft dftWriter;
    /** DFTs HAPI built and encoded because {@link BillingDft#unmatched} said the writer must not. */
    private final LongAdder dftFallbacks = new LongAdder();

    @Autowired
    public Payloads(Hl7Support hl7, ObjectMapper json) {
        this(hl7, json, Er7Writer.systemClock());
    }

    /** With the clock MSH-7 and EVN-2 of a written DFT are read from (tests pin it). */
    Payloads(Hl7Support hl7, ObjectMapper json, Clock clock) {
        this.hl7 = hl7;
        this.json = json;
        try {
            this.dftWriter = new BillingDft(hl7, clock);
        } catch (HL7Exception e) {
            throw new IllegalStateException("HAPI has no usable v2.5.1 DFT_P03 model", e);
        }
    }

    /** How many billing DFTs HAPI built instead of {@link BillingDft} (zero with the hub's HAPI context). */
    public long dftFallbacks() {
        return dftFallbacks.sum();
    }

    /**
     * Null when the message owes this destination nothing: no chargeable line for billing, no line
     * that moves stock (only services) for inventory. The worker settles such a row DELIVERED with
     * code {@code NOTHING-OWED} without calling the connector.
     */
    public Connector.Payload render(DestinationDefinition d, long outboxId, long messageId, SupplyUsage usage,
                                    List<String> resources) throws DeliveryException {
        return render(d, outboxId, messageId, usage, resources, null);
    }

    /**
     * As above; {@code releaseLine} is set on a billing row an operator's release of a held charge
     * made (see {@link HeldCharges}): it carries that line's charge only, under its own idempotency
     * key. Any other billing row carries the message's charges less the held ones.
     */
    public Connector.Payload render(DestinationDefinition d, long outboxId, long messageId, SupplyUsage usage,
                                    List<String> resources, Integer releaseLine) throws DeliveryException {
        String key = d.name() + "-" + messageId + (releaseLine == null ? "" : "-line-" + releaseLine);
        if (releaseLine != null && d.output() != DestinationDefinition.Output.CHARGES) {
            return null; // a release owes billing only
        }
        try {
            return switch (d.output()) {
                case CHARGES -> {
                    List<Line> chargeable = usage.lines().stream().filter(Line::chargeable)
                            .filter(l -> releaseLine == null ? !usage.chargeHeld(l.index()) : l.index() == releaseLine)
                            .toList();
                    if (chargeable.isEmpty()) {
                        yield null;
                    }
                    if (d.format() == DestinationDefinition.Format.JSON) {
                        yield new Connector.Payload(key, messageId, "application/json", "json", chargesJson(usage, chargeable));
                    }
                    String er7; // the same bytes for every ER7 destination: file, HTTP and MLLP
                    if (dftWriter.unmatched() == null) {
                        er7 = dftWriter.compose(d, outboxId, usage, chargeable);
                    } else {
                        dftFallbacks.increment();
                        er7 = hl7.encode(billingDft(d, outboxId, usage, chargeable));
                    }
                    yield new Connector.Payload(key, messageId, "application/hl7-v2", "hl7",
                            er7.getBytes(StandardCharsets.UTF_8));
                }
                case STOCK -> usage.lines().stream().noneMatch(Line::movesStock) ? null
                        : new Connector.Payload(key, messageId, "application/json", "json", stockJson(usage));
                case FHIR -> new Connector.Payload(key, messageId, "application/fhir+json", "json", transaction(resources));
            };
        } catch (HL7Exception | IOException | RuntimeException e) {
            throw new DeliveryException("cannot render the " + d.output().name().toLowerCase() + " for message "
                    + messageId + ": " + e.getClass().getSimpleName(), "RENDER", true, e);
        }
    }

    /**
     * The reference {@link BillingDft} writes the ER7 of, and what any ER7 destination is sent when
     * {@link BillingDft#unmatched} says the writer must not: a change here must be made there too ({@code BillingDftTest} fails until it is).
     * A DFT^P03 (v2.5.1) with one FT1 per chargeable line (supplies and services), enriched from the
     * item master when the line has a row there. MSH-10 is
     * derived from the outbox row, so a retry carries the same control id and the receiver can
     * de-duplicate it. MSH-5/6 are the destination's receivingApplication / receivingFacility (MSH-5
     * defaults to the destination's name); PID-3 keeps the assigning authority and identifier type
     * the sender gave; FT1-4 and FT1-5 keep the precision the sender gave. A line's notes follow its
     * FT1 as one NTE (v2.5.1 has one per FT1), a note per NTE-3 repetition. FT1-32/33 (performing
     * and ordering facility) are v2.6 fields, appended after v2.5.1's last (FT1-31) for receivers
     * that read them; others ignore them. The DFT carries no device data (it never did): devices
     * go to inventory and FHIR. Fields are set on the segments
     * themselves: a Terser path lookup per field costs more than the rest of the rendering.
     */
    DFT_P03 billingDft(DestinationDefinition d, long outboxId, SupplyUsage usage, List<Line> lines)
            throws HL7Exception, IOException {
        DFT_P03 dft = hl7.newMessage(DFT_P03.class);
        dft.initQuickstart("DFT", "P03", "P");
        Segment msh = dft.getMSH();
        set(msh, 3, 1, "SUPPLYHUB");
        set(msh, 4, 1, "HUB");
        DestinationDefinition.Hl7Receiver receiver = d.receiver();
        set(msh, 5, 1, receiver != null && receiver.application() != null ? receiver.application() : d.name());
        if (receiver != null && receiver.facility() != null) {
            set(msh, 6, 1, receiver.facility());
        }
        set(msh, 10, 1, "SH" + outboxId);
        set(msh, 18, 1, "UNICODE UTF-8");
        set(dft.getEVN(), 1, 1, "P03");
        set(dft.getEVN(), 2, 1, dft.getMSH().getDateTimeOfMessage().getTime().getValue());
        Segment pid = dft.getPID();
        set(pid, 3, 1, usage.patient().value());
        SupplyUsage.Assigner authority = usage.patientAuthority();
        if (authority != null) {
            String[] hd = {authority.namespace(), authority.universalId(), authority.universalIdType()};
            for (int i = 0; i < hd.length; i++) {
                if (hd[i] != null) {
                    Terser.set(pid, 3, 0, 4, i + 1, hd[i]);
                }
            }
        }
        if (usage.patientIdType() != null) {
            set(pid, 3, 5, usage.patientIdType());
        }
        if (usage.account() != null) {
            set(dft.getPID(), 18, 1, usage.account().value());
        }
        if (usage.encounter() != null) {
            set(dft.getPV1(), 19, 1, usage.encounter().value());
        }
        for (int i = 0; i < lines.size(); i++) {
            Line line = lines.get(i);
            SupplyUsage.Item item = line.master(); // null for a service the item master does not know
            Segment ft1 = dft.getFINANCIAL(i).getFT1();
            set(ft1, 1, 1, String.valueOf(i + 1));
            set(ft1, 2, 1, line.transactionId());
            if (line.serviceDate() != null) {
                set(ft1, 4, 1, Hl7Dates.format(line.serviceDate(), line.serviceDatePrecision()));
            }
            if (line.enteredDate() != null) {
                set(ft1, 5, 1, Hl7Dates.format(line.enteredDate(), line.enteredDatePrecision()));
            }
            set(ft1, 6, 1, line.kind() == Kind.CREDIT ? "CD" : "CG");
            if (item != null) {
                set(ft1, 7, 1, item.chargeCode() != null ? item.chargeCode() : line.item().value());
                set(ft1, 7, 2, item.description());
                set(ft1, 7, 3, "CDM");
            } else { // billed as sent: the line's code, text and coding system
                set(ft1, 7, 1, line.item().value());
                set(ft1, 7, 2, line.itemText());
                set(ft1, 7, 3, codingSystemName(line.item().system() != null ? line.item().system() : line.itemSystemUri()));
            }
            if (item != null && item.hcpcs() != null) {
                set(ft1, 7, 4, item.hcpcs());
                set(ft1, 7, 6, "HCPCS");
            }
            set(ft1, 10, 1, line.quantity().abs().toPlainString());
            if (line.extendedPrice() != null) {
                Terser.set(ft1, 11, 0, 1, 1, line.extendedPrice().abs().toPlainString());
                Terser.set(ft1, 11, 0, 1, 2, line.currency());
            }
            if (line.unitPrice() != null) {
                Terser.set(ft1, 12, 0, 1, 1, line.unitPrice().toPlainString());
                Terser.set(ft1, 12, 0, 1, 2, line.currency());
            }
            if (line.costCenter() != null) {
                set(ft1, 13, 1, line.costCenter().value());
            }
            for (int r = 0; r < line.reasons().size(); r++) {
                SupplyUsage.Coding reason = line.reasons().get(r);
                Terser.set(ft1, 19, r, 1, 1, reason.code());
                Terser.set(ft1, 19, r, 2, 1, reason.display());
                Terser.set(ft1, 19, r, 3, 1, codingSystemName(reason.system()));
            }
            if (line.performer() != null) {
                set(ft1, 20, 1, line.performer().value());
            }
            if (line.enterer() != null) {
                set(ft1, 24, 1, line.enterer().value());
            }
            if (line.procedure() != null) {
                set(ft1, 25, 1, line.procedure().value());
            }
            if (item != null && item.revenueCode() != null) {
                set(ft1, 26, 1, item.revenueCode()); // modifier slot carries the UB-04 revenue code
            }
            if (line.ndc() != null) {
                set(ft1, 29, 1, line.ndc().code());
                set(ft1, 29, 2, line.ndc().display());
                set(ft1, 29, 3, "NDC");
            }
            if (line.kind() == Kind.CREDIT && line.originalTransactionId() != null) {
                set(ft1, 31, 1, line.originalTransactionId());
            }
            if (line.performingOrganization() != null) {
                set(ft1, 32, 1, line.performingOrganization().value());
            }
            if (line.orderingOrganization() != null) {
                set(ft1, 33, 1, line.orderingOrganization().value());
            }
            if (!line.notes().isEmpty()) {
                Segment nte = dft.getFINANCIAL(i).getNTE();
                set(nte, 1, 1, "1");
                for (int n = 0; n < line.notes().size(); n++) {
                    Terser.set(nte, 3, n, 1, 1, line.notes().get(n));
                }
            }
        }
        return dft;
    }

    /** HL7 table 0396 names of the code systems a profile's lookup tables resolve to FHIR URIs. */
    private static final Map<String, String> HL7_CODING_SYSTEMS = Map.of(
            "http://www.ama-assn.org/go/cpt", "C4",
            FhirMapper.HCPCS, "HCPCS",
            FhirMapper.NDC, "NDC",
            "http://hl7.org/fhir/sid/icd-10-cm", "I10",
            "http://hl7.org/fhir/sid/icd-10", "I10",
            "http://hl7.org/fhir/sid/icd-9-cm", "I9CM",
            "http://snomed.info/sct", "SCT",
            "http://loinc.org", "LN");

    /**
     * The coding system as a DFT names it (CE-3): a name as sent stays; a URI a lookup resolved
     * becomes its table 0396 name; any other URI is left out, since CE-3 holds no URI.
     */
    static String codingSystemName(String system) {
        if (system == null || !system.contains(":")) {
            return system;
        }
        return HL7_CODING_SYSTEMS.get(system);
    }

    /** Sets the first repetition's {@code field-component} (its first subcomponent). */
    private static void set(Segment segment, int field, int component, String value) throws HL7Exception {
        Terser.set(segment, field, 0, component, 1, value);
    }

    private byte[] chargesJson(SupplyUsage usage, List<Line> lines) throws IOException {
        ArrayNode charges = json.createArrayNode();
        for (Line line : lines) {
            SupplyUsage.Item item = line.master();
            ObjectNode c = charges.addObject();
            c.put("transactionId", line.transactionId());
            c.put("type", line.kind() == Kind.CREDIT ? "credit" : "charge");
            c.put("chargeCode", item != null ? item.chargeCode() : line.item().value());
            c.put("hcpcs", item == null ? null : item.hcpcs());
            c.put("revenueCode", item == null ? null : item.revenueCode());
            c.put("quantity", line.quantity());
            c.put("unitPrice", line.unitPrice());
            c.put("amount", line.extendedPrice());
            c.put("currency", line.currency());
            c.put("originalTransactionId", line.originalTransactionId());
            // fields added for issue 11: only when present, so a charge without them reads as before
            if (line.use() == SupplyUsage.Use.SERVICE) {
                c.put("use", "service");
            }
            if (item == null) {
                c.put("codeSystem", line.itemSystemUri() != null ? line.itemSystemUri() : line.item().system());
                c.put("description", line.itemText());
            }
            if (line.enteredDate() != null) {
                c.put("enteredDate", Hl7Dates.iso(line.enteredDate(), line.enteredDatePrecision()));
            }
            if (!line.reasons().isEmpty()) {
                ArrayNode diagnoses = c.putArray("diagnoses");
                for (SupplyUsage.Coding r : line.reasons()) {
                    diagnoses.addObject().put("system", r.system()).put("code", r.code()).put("display", r.display());
                }
            }
            if (line.enterer() != null) {
                c.put("enteredBy", line.enterer().value());
            }
            if (line.ndc() != null) {
                c.put("ndc", line.ndc().code());
            }
            if (line.performingOrganization() != null) {
                c.put("performingOrganization", line.performingOrganization().value());
            }
            if (line.orderingOrganization() != null) {
                c.put("orderingOrganization", line.orderingOrganization().value());
            }
            if (!line.notes().isEmpty()) {
                line.notes().forEach(c.putArray("notes")::add);
            }
        }
        ObjectNode root = json.createObjectNode();
        source(root, usage);
        root.set("charges", charges);
        return json.writeValueAsBytes(root);
    }

    /**
     * Stock movements of the lines that move stock (services do not): usage takes stock out
     * (negative quantity), a credit puts it back (positive). The schema is in the README.
     */
    byte[] stockJson(SupplyUsage usage) throws IOException {
        ArrayNode movements = json.createArrayNode();
        for (Line line : usage.lines()) {
            if (!line.movesStock()) {
                continue;
            }
            ObjectNode m = movements.addObject();
            m.put("transactionId", line.transactionId());
            m.put("inventoryItemId", line.master().itemId());
            m.put("quantity", line.quantity().negate());
            m.put("unit", line.master().unit());
            m.put("location", line.location() == null ? null : line.location().value());
            m.put("time", line.serviceDate() == null ? null : Hl7Dates.iso(line.serviceDate(), line.serviceDatePrecision()));
            if (line.implant() != null) {
                m.put("udi", line.implant().udiCarrier());
                m.put("lot", line.implant().lot());
                m.put("serial", line.implant().serial());
                m.put("expiry", line.implant().expiry() == null ? null : line.implant().expiry().toString());
            }
            m.put("originalTransactionId", line.originalTransactionId());
            if (line.implants().size() > 1) { // the first device stays where it always was; all of them here
                ArrayNode devices = m.putArray("devices");
                for (SupplyUsage.Implant d : line.implants()) {
                    devices.addObject().put("udi", d.udiCarrier()).put("lot", d.lot()).put("serial", d.serial())
                            .put("expiry", d.expiry() == null ? null : d.expiry().toString());
                }
            }
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

    /**
     * A transaction Bundle whose entries are conditional creates on the resources' identifiers. The
     * resources are HAPI-encoded JSON already (rendered for this delivery, or journaled by a hub before
     * issue 16): they go in verbatim, and only their type, id and first identifier are read, by a
     * streaming scan that skips everything else (a tree per resource cost more than the scan).
     * <p>
     * Each resource is turned into UTF-8 once, scanned from those bytes and copied into the Bundle as
     * they are: Jackson's raw String writes encode it char by char, and a String parser copies it
     * into a char buffer first (18 → 11 µs CPU for the Mercy sample's 7, SendCost).
     */
    byte[] transaction(List<String> resources) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(resources.size() * 2048);
        try (JsonGenerator g = json.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("resourceType", "Bundle");
            g.writeStringField("type", "transaction");
            g.writeArrayFieldStart("entry");
            for (String text : resources) {
                byte[] resource = text.getBytes(StandardCharsets.UTF_8);
                Head r = head(resource);
                g.writeStartObject();
                g.writeStringField("fullUrl", "urn:uuid:" + r.id());
                g.writeFieldName("resource");
                g.writeRawValue(""); // the separator: the value itself goes straight to the stream
                g.flush();
                out.write(resource);
                g.writeObjectFieldStart("request");
                g.writeStringField("method", "POST");
                g.writeStringField("url", r.type());
                if (r.identifierValue() != null) {
                    g.writeStringField("ifNoneExist", FhirConnector.identifierCondition(r.identifierSystem(),
                            r.identifierValue()));
                }
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        return out.toByteArray();
    }

    /** What a Bundle entry reads of its resource: "" for an absent type, id or identifier system. */
    record Head(String type, String id, String identifierSystem, String identifierValue) { }

    /** The UTF-8 JSON resource's top-level resourceType, id and first identifier; every other value is skipped unread. */
    Head head(byte[] resource) throws IOException {
        String type = "";
        String id = "";
        String system = "";
        String value = null;
        boolean identifierRead = false;
        try (JsonParser p = json.getFactory().createParser(resource)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new JsonParseException(p, "a resource is a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken token = p.nextToken();
                switch (name) {
                    case "resourceType" -> type = scalar(p, token, "");
                    case "id" -> id = scalar(p, token, "");
                    case "identifier" -> {
                        identifierRead = true;
                        if (token == JsonToken.START_ARRAY && p.nextToken() == JsonToken.START_OBJECT) {
                            while (p.nextToken() == JsonToken.FIELD_NAME) {
                                String field = p.currentName();
                                JsonToken v = p.nextToken();
                                if ("system".equals(field)) {
                                    system = scalar(p, v, "");
                                } else if ("value".equals(field)) {
                                    value = scalar(p, v, null);
                                } else {
                                    p.skipChildren();
                                }
                            }
                            while (p.nextToken() != JsonToken.END_ARRAY) { // the other identifiers
                                p.skipChildren();
                            }
                        } else {
                            p.skipChildren();
                        }
                    }
                    default -> p.skipChildren();
                }
                if (identifierRead && !type.isEmpty() && !id.isEmpty()) {
                    break; // HAPI writes these first: the rest of the resource is not looked at
                }
            }
        }
        return new Head(type, id, system, value);
    }

    /** A scalar's text (as Jackson's asText gives it), or {@code absent} for null, an object or an array. */
    private static String scalar(JsonParser p, JsonToken token, String absent) throws IOException {
        if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
            p.skipChildren();
            return absent;
        }
        return token == JsonToken.VALUE_NULL ? absent : p.getText();
    }
}
