package org.supplyhub.mapping;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Message;
import org.hl7.fhir.r4.model.Resource;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.nio.file.Path;
import java.util.List;

/** The shipped profiles and item master, HAPI parsing as the hub does it, and field edits of samples. */
final class MappingSupport {

    static final Hl7Support HL7 = new Hl7Support();
    static final IParser FHIR_JSON = FhirContext.forR4Cached().newJsonParser();
    static final Path MAPPINGS = TestInterfaces.projectRoot().resolve("mappings");
    static final UsageMapper MERCY = new ProfileLoader(MAPPINGS).load("mercy-or", "mercy-or.yaml");
    static final UsageMapper LAKESIDE = new ProfileLoader(MAPPINGS).load("lakeside-cath", "lakeside-cath.yaml");

    private MappingSupport() {
    }

    static SupplyUsage map(UsageMapper mapper, String er7) {
        Message message;
        try {
            message = HL7.parse(er7);
        } catch (HL7Exception e) {
            throw new IllegalArgumentException("the test message does not parse", e);
        }
        return mapper.map(message, "SENDER^FACILITY", Samples.controlId(er7), "DFT^P03");
    }

    static List<Resource> fhir(UsageMapper mapper, String er7) {
        return FhirMapper.toFhir(map(mapper, er7), mapper.profile().systems());
    }

    /**
     * Sets field {@code field} (1-based; for MSH the HL7 field number) of the {@code occurrence}-th
     * (0-based) segment named {@code segment}, adding empty fields as needed.
     */
    static String withField(String er7, String segment, int occurrence, int field, String value) {
        String[] segments = er7.split("\r", -1);
        int seen = 0;
        for (int i = 0; i < segments.length; i++) {
            if (segments[i].startsWith(segment + "|") && seen++ == occurrence) {
                String[] fields = segments[i].split("\\|", -1);
                int index = segment.equals("MSH") ? field - 1 : field;
                if (index >= fields.length) {
                    String[] longer = new String[index + 1];
                    java.util.Arrays.fill(longer, "");
                    System.arraycopy(fields, 0, longer, 0, fields.length);
                    fields = longer;
                }
                fields[index] = value;
                segments[i] = String.join("|", fields);
                return String.join("\r", segments);
            }
        }
        throw new IllegalArgumentException("no " + segment + " #" + occurrence);
    }

    static String mercy() {
        return Samples.read(Samples.MERCY);
    }

    static String lakeside() {
        return Samples.read(Samples.LAKESIDE);
    }
}
