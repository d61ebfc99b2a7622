package org.supplyhub.cli;

import ca.uhn.fhir.parser.IParser;
import org.supplyhub.mapping.FhirRenderer;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;
import ca.uhn.fhir.context.FhirContext;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.delivery.Connector;
import org.supplyhub.delivery.DeliveryException;
import org.supplyhub.delivery.Payloads;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.mapping.FhirConfiguration;
import org.supplyhub.mapping.SupplyUsage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Runs messages through an interface as intake would ({@link MessageTranslator}) and renders what each
 * destination would be sent ({@link Payloads}, from the usage as journaled), storing nothing.
 */
final class DryRun {

    /** The parts of a result, as {@code try --only} names them. */
    enum Part {
        ACK, USAGE, FHIR, BILLING, STOCK;

        String key() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** What replaces values the hub makes up per run (ACK and DFT MSH-7/MSH-10, EVN-2) in mapping tests. */
    static final String GENERATED = "(generated)";

    /** Built as Spring Boot builds the hub's ObjectMapper with application.yml's spring.jackson settings. */
    static final ObjectMapper JSON = Jackson2ObjectMapperBuilder.json()
            .featuresToDisable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS,
                    DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .build();

    private final InterfaceCatalog catalog;
    private final Hl7Support hl7 = new Hl7Support();
    private final MessageTranslator translator = new MessageTranslator(hl7);
    private final Payloads payloads = new Payloads(hl7, JSON);
    private final IParser fhirJson;
    private final FhirRenderer renderer;

    DryRun(InterfaceCatalog catalog) {
        this.catalog = catalog;
        FhirContext fhir = FhirConfiguration.newContext();
        this.fhirJson = fhir.newJsonParser();
        this.renderer = new FhirRenderer(fhir, JSON); // rendered as the hub renders for delivery and the admin API
    }

    /**
     * One result per message: file name, message number, control id, ACK code and the parts asked for.
     * A message answered AE or AR has its ACK and the error, and no other part.
     */
    ObjectNode run(InterfaceDefinition iface, String fileName, int index, byte[] raw, Set<Part> parts,
                   boolean normalise) {
        ObjectNode out = JSON.createObjectNode();
        out.put("file", fileName);
        out.put("message", index);
        try {
            return run(iface, out, raw, parts, normalise);
        } catch (RuntimeException e) {
            // intake answers such a message AE (207, "resend later"); here the engineer sees where it broke
            StackTraceElement at = e.getStackTrace().length == 0 ? null : e.getStackTrace()[0];
            out.put("ackCode", "AE");
            out.put("error", "internal error: " + e + (at == null ? "" : " at " + at));
            return out;
        }
    }

    private ObjectNode run(InterfaceDefinition iface, ObjectNode out, byte[] raw, Set<Part> parts, boolean normalise) {
        MessageTranslator.Translation t = translator.translate(iface, raw, null);
        out.put("controlId", t.header() == null ? null : t.header().controlId());
        out.put("ackCode", t.ackCode());
        if (parts.contains(Part.ACK)) {
            out.set("ack", er7(t.ack(), normalise));
        }
        if (t instanceof MessageTranslator.NotMapped n) {
            out.put("error", n.error().getMessage());
            return out;
        }
        if (t instanceof MessageTranslator.Rejected r) {
            out.put("refusal", r.refusal().name().toLowerCase(Locale.ROOT).replace('_', '-'));
            out.put("error", r.error().getMessageWithoutLocation());
            return out;
        }
        MessageTranslator.Accepted a = (MessageTranslator.Accepted) t;
        String usageJson = write(a.usage());
        if (parts.contains(Part.USAGE)) {
            out.set("usage", read(usageJson));
        }
        // delivery renders from the journaled JSON, so the resources and payloads are rendered from it too
        SupplyUsage journaled = readUsage(usageJson);
        List<FhirRenderer.Rendered> rendered = renderer.render(journaled, a.render());
        List<String> resources = rendered.stream().map(FhirRenderer.Rendered::json).toList();
        if (parts.contains(Part.FHIR)) {
            out.set("fhir", fhir(rendered));
        }
        if (parts.contains(Part.BILLING)) {
            out.set("billing", deliveries(iface, DestinationDefinition.Output.CHARGES, journaled, resources, normalise));
        }
        if (parts.contains(Part.STOCK)) {
            out.set("stock", deliveries(iface, DestinationDefinition.Output.STOCK, journaled, resources, normalise));
        }
        return out;
    }

    private ObjectNode fhir(List<FhirRenderer.Rendered> rendered) {
        ObjectNode fhir = JSON.createObjectNode();
        ArrayNode list = fhir.putArray("resources");
        ArrayNode issues = JSON.createArrayNode();
        int errors = 0;
        int warnings = 0;
        for (FhirRenderer.Rendered r : rendered) {
            list.add(read(r.json()));
            for (R4Validation.Issue issue : R4Validation.check(fhirJson.parseResource(r.json()))) {
                if (issue.error()) {
                    errors++;
                    issues.add(r.resourceType() + "/" + r.resourceId() + " " + issue);
                } else {
                    warnings++; // counted only: base R4 warns about every local code system and missing narrative
                }
            }
        }
        fhir.put("errors", errors);
        fhir.put("warnings", warnings);
        if (!issues.isEmpty()) {
            fhir.set("issues", issues);
        }
        return fhir;
    }

    private ArrayNode deliveries(InterfaceDefinition iface, DestinationDefinition.Output output, SupplyUsage usage,
                                 List<String> resources, boolean normalise) {
        ArrayNode list = JSON.createArrayNode();
        for (String name : iface.destinations()) {
            DestinationDefinition d = catalog.destination(name);
            if (d.output() != output) {
                continue;
            }
            ObjectNode entry = list.addObject();
            entry.put("destination", d.name());
            entry.put("format", d.format().name().toLowerCase(Locale.ROOT));
            Connector.Payload payload;
            try {
                // outbox row and message ids are the journal's; 0 here (MSH-10 of a DFT is "SH" + outbox id)
                payload = payloads.render(d, 0, 0, usage, resources);
            } catch (DeliveryException e) {
                entry.put("error", e.getMessage());
                continue;
            }
            if (payload == null) {
                entry.putNull("payload");
                entry.put("note", d.output() == DestinationDefinition.Output.STOCK
                        ? "nothing owed (no line moves stock)" : "nothing owed (no chargeable line)");
            } else if ("hl7".equals(payload.extension())) {
                entry.set("payload", er7(new String(payload.body(), StandardCharsets.UTF_8), normalise));
            } else {
                entry.set("payload", read(new String(payload.body(), StandardCharsets.UTF_8)));
            }
        }
        return list;
    }

    /** ER7 as a list of segments, so a diff points at one segment. */
    static ArrayNode er7(String text, boolean normalise) {
        ArrayNode segments = JSON.createArrayNode();
        for (String segment : text.split("\r")) {
            if (segment.isEmpty()) {
                continue;
            }
            segments.add(normalise ? normalise(segment) : segment);
        }
        return segments;
    }

    private static String normalise(String segment) {
        if (segment.startsWith("MSH|")) {
            String[] f = segment.split("\\|", -1); // f[n - 1] is MSH-n
            generated(f, 6);
            generated(f, 9);
            return String.join("|", f);
        }
        if (segment.startsWith("EVN|")) {
            String[] f = segment.split("\\|", -1); // f[n] is EVN-n
            generated(f, 2);
            return String.join("|", f);
        }
        return segment;
    }

    private static void generated(String[] fields, int i) {
        if (i < fields.length && !fields[i].isEmpty()) {
            fields[i] = GENERATED;
        }
    }

    private static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode read(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static SupplyUsage readUsage(String text) {
        try {
            return JSON.readValue(text, SupplyUsage.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
