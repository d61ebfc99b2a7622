package org.supplyhub.mapping;

import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Message;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.delivery.Payloads;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Property: whatever a sender puts in the FT1, ZIM, PRT, OBX and PID fields of the sample messages,
 * mapping either succeeds, and then the FHIR is valid R4 and every destination's payload renders
 * from the journaled usage, or it fails with a {@link MappingException} naming a field — never
 * with any other exception (which the hub would answer as a transient "resend later").
 * Fixed seed, so a failure reproduces; each failure prints its case number and mutations.
 */
class MappingFuzzTest {

    static final long SEED = 20261129L;
    static final int CASES = 1200;

    static final ObjectMapper JSON = Jackson2ObjectMapperBuilder.json()
            .featuresToDisable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).build();
    static final InterfaceCatalog CATALOG = InterfaceCatalog.load(TestInterfaces.projectRoot().resolve("routes"),
            MappingSupport.MAPPINGS);
    static final String[] SEGMENTS = {"FT1", "FT1", "FT1", "ZIM", "PRT", "PID", "OBX"};
    static final String TEXT = "abcXYZ019 -._/&^~\\é€漢\t";

    @Test
    void mutatedSamplesMapToValidR4OrAreMappingErrors() throws Exception {
        Random random = new Random(SEED);
        Payloads payloads = new Payloads(MappingSupport.HL7, JSON);
        List<String> samples = List.of(Samples.read(Samples.MERCY), Samples.read(Samples.LAKESIDE),
                Samples.read(Samples.MERCY_CREDIT));
        List<String> failures = new ArrayList<>();
        Set<String> validated = new HashSet<>();
        int accepted = 0;
        int refused = 0;
        int unparsed = 0;
        int checked = 0;
        Random sampling = new Random(SEED + 1);
        long mapNanos = 0;
        long renderNanos = 0;
        long validateNanos = 0;
        for (int n = 0; n < CASES; n++) {
            String sample = samples.get(random.nextInt(samples.size()));
            boolean lakeside = sample.contains("SURGINET");
            UsageMapper mapper = lakeside ? MappingSupport.LAKESIDE : MappingSupport.MERCY;
            List<String> mutations = new ArrayList<>();
            String er7 = sample;
            for (int m = 1 + random.nextInt(3); m > 0; m--) {
                er7 = mutate(er7, random, mutations);
            }
            String where = "case " + n + " " + mutations;
            Message message;
            long t0 = System.nanoTime();
            try {
                message = MappingSupport.HL7.parse(er7);
            } catch (HL7Exception | RuntimeException e) {
                unparsed++; // the parser's answer (AR) is intake's business, not the mapping's
                continue;
            }
            SupplyUsage usage;
            List<Resource> resources;
            try {
                usage = mapper.map(message, "SENDER^FAC", "FUZZ", "DFT^P03");
                resources = FhirMapper.toFhir(usage, mapper.profile().systems());
            } catch (MappingException e) {
                refused++;
                if (e.path() == null || !e.getMessage().startsWith(e.path())) {
                    failures.add(where + ": a MappingException that does not name its field: " + e.getMessage());
                }
                continue;
            } catch (RuntimeException e) {
                failures.add(where + ": " + e);
                continue;
            }
            accepted++;
            long t1 = System.nanoTime();
            mapNanos += t1 - t0;
            try {
                SupplyUsage journaled = JSON.readValue(JSON.writeValueAsString(usage), SupplyUsage.class);
                List<String> encoded = resources.stream().map(MappingSupport.FHIR_JSON::encodeResourceToString).toList();
                for (String destination : List.of(lakeside ? "lakeside-billing" : "mercy-billing",
                        lakeside ? "lakeside-inventory" : "mercy-inventory", "fhir-server")) {
                    DestinationDefinition d = CATALOG.destination(destination);
                    payloads.render(d, n, n, journaled, encoded);
                }
            } catch (Exception e) {
                failures.add(where + ": accepted but cannot be delivered: " + e);
            }
            long t2 = System.nanoTime();
            renderNanos += t2 - t1;
            // R4 validation is the slow part (0.1–0.3 s a resource): a seeded fifth of the distinct resources
            for (Resource r : resources) {
                String text = MappingSupport.FHIR_JSON.encodeResourceToString(r).replaceAll("\"id\":\"[^\"]*\"", "");
                if (validated.add(text) && sampling.nextInt(5) == 0) {
                    checked++;
                    List<String> errors = R4Validator.errors(r);
                    if (!errors.isEmpty()) {
                        failures.add(where + ": " + r.fhirType() + " is not valid R4: " + errors);
                    }
                }
            }
            validateNanos += System.nanoTime() - t2;
        }
        System.out.printf("mapping fuzz: %d cases, %d accepted, %d refused with MappingException, %d not parsed, "
                + "%d distinct resources, %d of them validated; parse+map %d ms, render %d ms, validate %d ms%n", CASES, accepted,
                refused, unparsed, validated.size(), checked, mapNanos / 1_000_000, renderNanos / 1_000_000, validateNanos / 1_000_000);
        assertThat(failures).as("cases that escaped as other exceptions or produced invalid output").isEmpty();
        assertThat(accepted).as("the mutations leave enough messages mappable").isGreaterThan(CASES / 10);
        assertThat(refused).as("the mutations reach the checks").isGreaterThan(CASES / 5);
        assertThat(checked).as("enough distinct output is validated").isGreaterThan(80);
    }

    /** One random change to one field (or component) of an FT1, ZIM, PRT, PID or an inserted OBX. */
    static String mutate(String er7, Random random, List<String> log) {
        String segment = SEGMENTS[random.nextInt(SEGMENTS.length)];
        String[] segments = er7.split("\r", -1);
        List<Integer> found = new ArrayList<>();
        for (int i = 0; i < segments.length; i++) {
            if (segments[i].startsWith(segment + "|")) {
                found.add(i);
            }
        }
        int index;
        if (found.isEmpty()) {
            if (!segment.equals("OBX")) {
                return er7; // this sample has no such segment
            }
            // an OBX after a random FT1: DFT^P03 allows observations in each financial group
            List<Integer> ft1 = new ArrayList<>();
            for (int i = 0; i < segments.length; i++) {
                if (segments[i].startsWith("FT1|")) {
                    ft1.add(i);
                }
            }
            int at = ft1.get(random.nextInt(ft1.size())) + 1;
            List<String> list = new ArrayList<>(List.of(segments));
            list.add(at, "OBX|1|ST|NOTE^Note||text");
            segments = list.toArray(String[]::new);
            index = at;
        } else {
            index = found.get(random.nextInt(found.size()));
        }
        String[] fields = segments[index].split("\\|", -1);
        int[] mapped = switch (segment) {
            case "FT1" -> new int[] {2, 4, 6, 7, 10, 11, 12, 13, 16, 20, 25, 31, 34, 35};
            case "ZIM" -> new int[] {2, 3, 4, 5, 6, 7, 8};
            case "PRT" -> new int[] {10, 16, 17, 18, 19, 20};
            case "PID" -> new int[] {3, 3, 18};
            default -> new int[] {1, 2, 3, 5};
        };
        // mostly the fields the profiles read, sometimes any field
        int field = random.nextInt(10) < 7 ? mapped[random.nextInt(mapped.length)]
                : 1 + random.nextInt(segment.equals("FT1") ? 36 : segment.equals("PID") ? 20 : 21);
        if (field >= fields.length) {
            String[] longer = new String[field + 1];
            java.util.Arrays.fill(longer, "");
            System.arraycopy(fields, 0, longer, 0, fields.length);
            fields = longer;
        }
        String old = fields[field];
        String value;
        if (random.nextInt(3) == 0 && !old.isEmpty()) {
            // change one component and keep the others
            String[] components = old.split("\\^", -1);
            int c = random.nextInt(components.length);
            components[c] = value(components[c], random);
            value = String.join("^", components);
        } else {
            value = value(old, random);
        }
        fields[field] = value;
        segments[index] = String.join("|", fields);
        log.add(segment + "-" + field + "=" + (value.length() > 40 ? value.substring(0, 40) + "…(" + value.length() + ")" : value));
        return String.join("\r", segments);
    }

    static String value(String old, Random random) {
        return switch (random.nextInt(14)) {
            case 0 -> "";
            case 1 -> digits(random, 1 + random.nextInt(20));
            case 2 -> digits(random, random.nextBoolean() ? 1001 : 64 + random.nextInt(4));
            case 3 -> (random.nextBoolean() ? "-" : "") + digits(random, random.nextInt(12)) + "."
                    + digits(random, random.nextInt(7)) + (random.nextInt(4) == 0 ? "E" + random.nextInt(999) : "");
            case 4 -> digits(random, 4 + random.nextInt(13)) + (random.nextBoolean() ? "." + digits(random, random.nextInt(6)) : "")
                    + (random.nextBoolean() ? (random.nextBoolean() ? "+" : "-") + digits(random, random.nextInt(6)) : "");
            case 5 -> text(random, 1 + random.nextInt(random.nextBoolean() ? 20 : 300));
            case 6, 7 -> edit(old, random);
            case 8 -> "+" + hibcc(random);
            case 9 -> "(01)" + digits(random, 14) + (random.nextBoolean() ? "(17)" + digits(random, 6) : "")
                    + (random.nextBoolean() ? "(10)" + text(random, random.nextInt(25)) : "")
                    + (random.nextBoolean() ? "(21)" + text(random, random.nextInt(25)) : "");
            case 10 -> letters(random, 3);
            case 11 -> List.of("\\X07\\", "\\X0D\\", "\\F\\", "\\.br\\", "\\E\\", "\\X00\\", "  a  b  ").get(random.nextInt(7))
                    + old;
            case 12 -> List.of("CG", "CD", "CR", "XX", "0", "-1", "1", "USD", "20261114", "20261114+2500", "MERCYCDM",
                    "LAKESIDEITEM", "TX-88120-3").get(random.nextInt(13));
            default -> old + old;
        };
    }

    static String digits(Random random, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append((char) ('0' + random.nextInt(10)));
        }
        return sb.toString();
    }

    static String letters(Random random, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append((char) ((random.nextBoolean() ? 'A' : 'a') + random.nextInt(26)));
        }
        return sb.toString();
    }

    static String text(Random random, int n) {
        StringBuilder sb = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            sb.append(TEXT.charAt(random.nextInt(TEXT.length())));
        }
        return sb.toString();
    }

    static String hibcc(Random random) {
        String chars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%";
        StringBuilder sb = new StringBuilder();
        for (int i = random.nextInt(30); i > 0; i--) {
            sb.append(chars.charAt(random.nextInt(chars.length())));
        }
        String data = "+" + sb;
        return random.nextBoolean() ? UsageMapperTest.hibcc(data).substring(1) : sb.toString();
    }

    /** Insert, delete or replace one character. */
    static String edit(String old, Random random) {
        if (old.isEmpty()) {
            return text(random, 1);
        }
        int at = random.nextInt(old.length());
        char c = TEXT.charAt(random.nextInt(TEXT.length()));
        return switch (random.nextInt(3)) {
            case 0 -> old.substring(0, at) + c + old.substring(at);
            case 1 -> old.substring(0, at) + old.substring(at + 1);
            default -> old.substring(0, at) + c + old.substring(at + 1);
        };
    }
}
