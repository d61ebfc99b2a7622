package org.supplyhub.mapping;

import ca.uhn.fhir.parser.IParser;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

/**
 * What rendering the Mercy sample (3 lines, 7 resources) as version 1 JSON costs, in CPU time of the
 * rendering thread: HAPI (build the model, encode it) against {@link FhirJsonWriter}. A command, not a
 * test; medians of the rounds after two warm-up rounds.
 *
 * <pre>java -cp hub/target/test-classes:hub/target/classes:$(cat cp.txt) org.supplyhub.mapping.FhirJsonWriterBenchmark [renders] [rounds]</pre>
 */
public final class FhirJsonWriterBenchmark {

    public static void main(String[] args) {
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
        String[] names = {"HAPI: FhirMapper model + IParser.encodeResourceToString", "FhirJsonWriter"};
        List<Supplier<List<FhirRenderer.Rendered>>> cases = List.of(
                () -> FhirRenderer.encode(FhirRenderer.resourcesByLine(usage, spec), parser),
                () -> FhirJsonWriter.render(usage, spec.systems()));
        double[][] perRound = new double[cases.size()][rounds];
        for (int round = -2; round < rounds; round++) {
            for (int c = 0; c < cases.size(); c++) {
                double us = cpuMicros(cases.get(c), n);
                if (round >= 0) {
                    perRound[c][round] = us;
                }
            }
        }
        for (int c = 0; c < cases.size(); c++) {
            double[] sorted = perRound[c].clone();
            Arrays.sort(sorted);
            System.out.printf("%-58s median %7.1f µs CPU per message (min %.1f, max %.1f)%n", names[c],
                    sorted[sorted.length / 2], sorted[0], sorted[sorted.length - 1]);
        }
    }

    static double cpuMicros(Supplier<List<FhirRenderer.Rendered>> work, int n) {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        long start = cpu.getCurrentThreadCpuTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
            sink += work.get().get(0).json().length();
        }
        long used = cpu.getCurrentThreadCpuTime() - start;
        if (sink == 42) {
            System.out.println();
        }
        return used / 1000.0 / n;
    }
}
