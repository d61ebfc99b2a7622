package org.supplyhub.delivery;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.mapping.FhirConfiguration;
import org.supplyhub.mapping.FhirMapper;
import org.supplyhub.mapping.FhirRenderer;
import org.supplyhub.mapping.RenderSpec;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.support.CpuCases;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * What rendering FHIR on demand costs (issue 16), in CPU time of the thread doing it (a command, not a
 * test; robust to a machine whose other cores are busy), per Mercy sample message (7 resources):
 * what intake no longer does, what it does instead, and what FHIR delivery and the admin API do per
 * message now. Medians of the rounds after warm-up.
 *
 * <pre>java -cp hub/target/test-classes:hub/target/classes:$(cat cp.txt) org.supplyhub.delivery.RenderCostBenchmark [messages] [rounds]</pre>
 */
public final class RenderCostBenchmark {

    static final ObjectMapper JSON = Jackson2ObjectMapperBuilder.json()
            .featuresToDisable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS,
                    DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE)
            .build();

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 5_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        InterfaceDefinition iface = InterfaceCatalog.load(interfaces.routesDir, interfaces.mappingsDir).get("mercy-or");
        MessageTranslator.Accepted a = (MessageTranslator.Accepted) new MessageTranslator(new Hl7Support())
                .translate(iface, Samples.read(Samples.MERCY).getBytes(StandardCharsets.UTF_8), null);
        SupplyUsage usage = a.usage();
        RenderSpec spec = a.render();
        String plainUsage = JSON.writeValueAsString(usage);
        String journaled = spec.journal(plainUsage);
        FhirContext fhir = FhirConfiguration.newContext();
        FhirRenderer renderer = new FhirRenderer(fhir, JSON);
        Payloads payloads = new Payloads(new Hl7Support(), JSON);
        List<String> resources = renderer.json(usage, spec);
        System.out.printf("Render cost: the Mercy sample, %d resources (%d bytes of JSON), %d messages a round, %d rounds%n",
                resources.size(), resources.stream().mapToInt(String::length).sum(), n, rounds);

        List<CpuCases.Case> cases = List.of(
                new CpuCases.Case("intake before: build + encode 7 resources (new parser per message)", () -> {
                    IParser p = fhir.newJsonParser();
                    long s = 0;
                    for (Resource r : FhirMapper.toFhir(usage, iface.mapper().profile().systems())) {
                        s += p.encodeResourceToString(r).length();
                    }
                    return s;
                }),
                new CpuCases.Case("intake now: the render spec spliced into the usage JSON", () -> spec.journal(plainUsage).length()),
                new CpuCases.Case("build the 7 resources only (no encoding)", () -> FhirRenderer.resources(usage, spec).size()),
                new CpuCases.Case("render + encode 7 resources (parser per thread)", () -> renderer.render(usage, spec).size()),
                new CpuCases.Case("read the spec from the journaled usage", () -> RenderSpec.read(journaled).version()),
                new CpuCases.Case("Bundle from 7 resources, streaming scan (now)", () -> payloads.transaction(resources).length),
                new CpuCases.Case("Bundle from 7 resources, tree per resource (before)", () -> treeTransaction(resources).length),
                new CpuCases.Case("FHIR delivery now: render + encode + Bundle", () -> payloads.transaction(renderer.json(usage, spec)).length));
        CpuCases.printMedians(cases, n, rounds, 2); // two rounds warm the JIT up
    }

    /** The Bundle composition before issue 16: a Jackson tree per resource to read its type, id and identifier. */
    static byte[] treeTransaction(List<String> resources) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(resources.size() * 2048);
        try (JsonGenerator g = JSON.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("resourceType", "Bundle");
            g.writeStringField("type", "transaction");
            g.writeArrayFieldStart("entry");
            for (String text : resources) {
                JsonNode r = JSON.readTree(text);
                g.writeStartObject();
                g.writeStringField("fullUrl", "urn:uuid:" + r.path("id").asText());
                g.writeFieldName("resource");
                g.writeRawValue(text);
                g.writeObjectFieldStart("request");
                g.writeStringField("method", "POST");
                g.writeStringField("url", r.path("resourceType").asText());
                JsonNode id = r.path("identifier").path(0);
                if (id.hasNonNull("value")) {
                    g.writeStringField("ifNoneExist", FhirConnector.identifierCondition(id.path("system").asText(""),
                            id.get("value").asText()));
                }
                g.writeEndObject();
                g.writeEndObject();
            }
            g.writeEndArray();
            g.writeEndObject();
        }
        return out.toByteArray();
    }
}
