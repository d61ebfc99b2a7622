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
import org.supplyhub.support.CpuCases;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.util.List;

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
        CpuCases.printMedians(List.of(
                new CpuCases.Case("translate (all of the below)", () -> translator.translate(iface, raw, null).hashCode()),
                new CpuCases.Case("header read", () -> Hl7Header.read(text).hashCode()),
                new CpuCases.Case("shape check", () -> String.valueOf(hl7.checkShape(text)).length()),
                new CpuCases.Case("HAPI parse", () -> hl7.parse(text, version).hashCode()),
                new CpuCases.Case("map", () -> iface.mapper().map(message, header.sender(), header.controlId(), header.type()).hashCode()),
                new CpuCases.Case("AA", () -> hl7.ack(message, ca.uhn.hl7v2.AcknowledgmentCode.AA, null, a.charsetField()).length()),
                new CpuCases.Case("usage JSON", () -> json.writeValueAsString(a.usage()).length())),
                n, rounds, 3);
    }
}
