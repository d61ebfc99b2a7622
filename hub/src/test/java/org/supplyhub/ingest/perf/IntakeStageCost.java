package org.supplyhub.ingest.perf;

import ca.uhn.hl7v2.model.Message;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.hl7.Hl7Header;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.Callable;

/**
 * What intake's stages cost in CPU of the thread doing them, per Mercy sample message, after the JIT
 * has settled (medians of rounds): the whole translation (header, shape check, parse, map, ACK) and its
 * parts, and the usage's JSON. A command, not a test; the journal's sealing is EncryptionCostBenchmark's.
 */
public final class IntakeStageCost {

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 3_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        InterfaceDefinition iface = InterfaceCatalog.load(interfaces.routesDir, interfaces.mappingsDir).get("mercy-or");
        Hl7Support hl7 = new Hl7Support();
        MessageTranslator translator = new MessageTranslator(hl7);
        String text = MessageTranslator.normalizeSegments(Samples.read(Samples.MERCY));
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        MessageTranslator.Accepted a = (MessageTranslator.Accepted) translator.translate(iface, raw, null);
        Message message = a.message();
        Hl7Header header = Hl7Header.read(text);
        ObjectMapper json = Jackson2ObjectMapperBuilder.json().featuresToDisable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS,
                DeserializationFeature.ADJUST_DATES_TO_CONTEXT_TIME_ZONE).build();
        String version = iface.mapper().profile().hl7Version();
        Case[] cases = {
                new Case("translate (all of the below)", () -> translator.translate(iface, raw, null).hashCode()),
                new Case("header read", () -> Hl7Header.read(text).hashCode()),
                new Case("shape check", () -> String.valueOf(hl7.checkShape(text)).length()),
                new Case("HAPI parse", () -> hl7.parse(text, version).hashCode()),
                new Case("map", () -> iface.mapper().map(message, header.sender(), header.controlId(), header.type()).hashCode()),
                new Case("AA", () -> hl7.ack(message, ca.uhn.hl7v2.AcknowledgmentCode.AA, null, a.charsetField()).length()),
                new Case("usage JSON", () -> json.writeValueAsString(a.usage()).length()),
        };
        double[][] perRound = new double[cases.length][rounds];
        for (int round = -3; round < rounds; round++) {
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
            System.out.printf("%-30s median %7.1f µs CPU per message (min %.1f, max %.1f)%n", cases[c].name(),
                    sorted[sorted.length / 2], sorted[0], sorted[sorted.length - 1]);
        }
    }

    record Case(String name, Callable<Integer> work) { }

    static double cpuMicros(Callable<Integer> work, int n) throws Exception {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        long start = cpu.getCurrentThreadCpuTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
            sink += work.call();
        }
        long used = cpu.getCurrentThreadCpuTime() - start;
        if (sink == 42) {
            System.out.println();
        }
        return used / 1000.0 / n;
    }
}
