package org.supplyhub.mapping;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.hl7.fhir.r4.model.Resource;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Renders a journaled usage as the FHIR resources the hub owns, when they are needed (FHIR delivery,
 * admin API, console, {@code try}): never on the ACK path, where encoding them took ~35 % of intake's
 * CPU (JFR, issue 16). Rendering is a pure function of the usage and its {@link RenderSpec}, and
 * dispatches on the spec's version, so a message renders the same way however long it is kept.
 * Version 1 is {@link FhirMapper}'s resources as HAPI's JSON parser encodes them; {@link FhirJsonWriter}
 * writes that JSON directly, byte for byte (FhirJsonWriterOracleTest), because building the model and
 * running HAPI's reflective encoder was ~24 % of the hub's CPU with FHIR delivery on (JFR, issue 16):
 * the Mercy sample (7 resources) took 210 µs of thread CPU through HAPI and takes 16 µs written directly
 * (FhirJsonWriterBenchmark, medians of 3 runs of 9 rounds of 2,000 renders). The model
 * ({@link #resourcesByLine}) stays for callers that need HAPI objects (the validator among them);
 * HAPI encodes the few shapes the writer leaves to it ({@link #hapiFallbacks()}), one parser per
 * thread (a parser is not thread-safe, and cheap to keep).
 */
@Component
public class FhirRenderer {

    /** One rendered resource: the 1-based position of its line among the usage's lines, and its JSON. */
    public record Rendered(int line, String resourceType, String resourceId, String json) { }

    /** A spec whose version this renderer does not know (a message journaled by a newer hub). */
    public static final class UnknownVersionException extends IllegalStateException {
        public UnknownVersionException(int version) {
            super("render version " + version + " is not known to this hub (it knows 1.." + RenderSpec.CURRENT_VERSION + ")");
        }
    }

    private final ThreadLocal<IParser> parsers;
    private final ObjectMapper json;
    private final LongAdder hapiFallbacks = new LongAdder();

    /** {@code fhir}: the hub's context ({@link FhirConfiguration}); {@code json}: reads journaled usages. */
    public FhirRenderer(FhirContext fhir, ObjectMapper json) {
        this.parsers = ThreadLocal.withInitial(fhir::newJsonParser);
        this.json = json;
    }

    /** The resources of each line of {@code usage}, as version {@code spec.version()} renders them. */
    public static List<List<Resource>> resourcesByLine(SupplyUsage usage, RenderSpec spec) {
        return switch (spec.version()) {
            case 1 -> FhirMapper.toFhirByLine(usage, spec.systems());
            default -> throw new UnknownVersionException(spec.version());
        };
    }

    /** All resources of {@code usage}, line by line. */
    public static List<Resource> resources(SupplyUsage usage, RenderSpec spec) {
        List<Resource> out = new ArrayList<>();
        resourcesByLine(usage, spec).forEach(out::addAll);
        return out;
    }

    /**
     * The resources of {@code usage} encoded as JSON, as intake used to journal them: version 1 written
     * directly ({@link FhirJsonWriter}, the same bytes as HAPI's encoder), except a usage whose shape it
     * leaves to HAPI ({@link FhirJsonWriter#writable}, counted in {@link #hapiFallbacks()}).
     */
    public List<Rendered> render(SupplyUsage usage, RenderSpec spec) {
        if (spec.version() == 1 && FhirJsonWriter.writable(usage)) {
            return FhirJsonWriter.render(usage, spec.systems());
        }
        List<Rendered> rendered = encode(resourcesByLine(usage, spec), parsers.get()); // an unknown version throws here
        if (spec.version() == 1) { // counted once HAPI rendered it: a usage that renders nowhere is no fallback
            hapiFallbacks.increment();
        }
        return rendered;
    }

    /** HAPI's encoding of the mapper's resources: what {@link FhirJsonWriter} is byte-identical to. */
    static List<Rendered> encode(List<List<Resource>> byLine, IParser parser) {
        List<Rendered> out = new ArrayList<>(byLine.size() * 4);
        for (int line = 0; line < byLine.size(); line++) {
            for (Resource r : byLine.get(line)) {
                out.add(new Rendered(line + 1, r.fhirType(), r.getIdElement().getIdPart(), parser.encodeResourceToString(r)));
            }
        }
        return out;
    }

    /** How many usages were rendered through HAPI because the direct writer leaves their shape to it. */
    public long hapiFallbacks() {
        return hapiFallbacks.sum();
    }

    /** The JSON of each resource only: what a FHIR transaction Bundle is composed of. */
    public List<String> json(SupplyUsage usage, RenderSpec spec) {
        return render(usage, spec).stream().map(Rendered::json).toList();
    }

    /**
     * The resources of a usage as journaled (its JSON with the {@link RenderSpec} it was taken in
     * with; {@link RenderSpec#UNVERSIONED} when it has none).
     */
    public List<Rendered> render(String usageJson) {
        RenderSpec spec = RenderSpec.read(usageJson);
        SupplyUsage usage;
        try {
            usage = json.readValue(usageJson, SupplyUsage.class);
        } catch (IOException e) {
            throw new UncheckedIOException("the journaled usage cannot be read", e);
        }
        return render(usage, spec == null ? RenderSpec.UNVERSIONED : spec);
    }
}
