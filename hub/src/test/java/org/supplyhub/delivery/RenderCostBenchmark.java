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
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
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

        Case[] cases = {
                new Case("intake before: build + encode 7 resources (new parser per message)", () -> {
                    IParser p = fhir.newJsonParser();
                    long s = 0;
                    for (Resource r : FhirMapper.toFhir(usage, iface.mapper().profile().systems())) {
                        s += p.encodeResourceToString(r).length();
                    }
                    return s;
                }),
                new Case("intake now: the render spec spliced into the usage JSON", () -> spec.journal(plainUsage).length()),
                new Case("build the 7 resources only (no encoding)", () -> FhirRenderer.resources(usage, spec).size()),
                new Case("render + encode 7 resources (parser per thread)", () -> renderer.render(usage, spec).size()),
                new Case("read the spec from the journaled usage", () -> RenderSpec.read(journaled).version()),
                new Case("Bundle from 7 resources, streaming scan (now)", () -> payloads.transaction(resources).length),
                new Case("Bundle from 7 resources, tree per resource (before)", () -> treeTransaction(resources).length),
                new Case("FHIR delivery now: render + encode + Bundle", () -> payloads.transaction(renderer.json(usage, spec)).length),
        };
        double[][] perRound = new double[cases.length][rounds];
        for (int round = -2; round < rounds; round++) { // two rounds warm the JIT up
            for (int c = 0; c < cases.length; c++) {
                double us = cpuMicros(cases[c].work(), n);
                if (round >= 0) {
                    perRound[c][round] = us;
                }
            }
        }
        for (int c = 0; c < cases.length; c++) {
            double[] sorted = perRound[c].clone();
            Arrays.sort(sorted);
            System.out.printf("%-70s median %7.1f µs CPU per message (min %.1f, max %.1f)%n", cases[c].name(),
                    sorted[sorted.length / 2], sorted[0], sorted[sorted.length - 1]);
        }
    }

    record Case(String name, Work work) { }

    @FunctionalInterface
    interface Work {
        long run() throws Exception;
    }

    static double cpuMicros(Work work, int n) throws Exception {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        long start = cpu.getCurrentThreadCpuTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
            sink += work.run();
        }
        long used = cpu.getCurrentThreadCpuTime() - start;
        if (sink == 42) {
            System.out.println();
        }
        return used / 1000.0 / n;
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
