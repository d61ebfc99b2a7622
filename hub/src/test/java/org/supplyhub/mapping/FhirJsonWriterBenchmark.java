package org.supplyhub.mapping;

import org.supplyhub.support.CpuCases;

import ca.uhn.fhir.parser.IParser;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * What rendering the Mercy sample (3 lines, 7 resources) as version 1 JSON costs, in CPU time of the
 * rendering thread: HAPI (build the model, encode it) against {@link FhirJsonWriter}. A command, not a
 * test; medians of the rounds after two warm-up rounds.
 *
 * <pre>java -cp hub/target/test-classes:hub/target/classes:$(cat cp.txt) org.supplyhub.mapping.FhirJsonWriterBenchmark [renders] [rounds]</pre>
 */
public final class FhirJsonWriterBenchmark {

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        InterfaceDefinition iface = InterfaceCatalog.load(interfaces.routesDir, interfaces.mappingsDir).get("mercy-or");
        MessageTranslator.Accepted a = (MessageTranslator.Accepted) new MessageTranslator(new Hl7Support())
                .translate(iface, Samples.read(Samples.MERCY).getBytes(StandardCharsets.UTF_8), null);
        SupplyUsage usage = a.usage();
        RenderSpec spec = a.render();
        IParser parser = FhirConfiguration.newContext().newJsonParser();
        List<FhirRenderer.Rendered> hapi = FhirRenderer.encode(FhirRenderer.resourcesByLine(usage, spec), parser);
        if (!hapi.equals(FhirJsonWriter.render(usage, spec.systems()))) {
            throw new IllegalStateException("the writer does not write what HAPI encodes");
        }
        System.out.printf("Mercy sample: %d resources, %d chars of JSON; %d renders a round, %d rounds%n", hapi.size(),
                hapi.stream().mapToInt(r -> r.json().length()).sum(), n, rounds);
        CpuCases.printMedians(List.of(
                new CpuCases.Case("HAPI: FhirMapper model + IParser.encodeResourceToString",
                        () -> FhirRenderer.encode(FhirRenderer.resourcesByLine(usage, spec), parser).get(0).json().length()),
                new CpuCases.Case("FhirJsonWriter", () -> FhirJsonWriter.render(usage, spec.systems()).get(0).json().length())),
                n, rounds, 2);
    }
}
