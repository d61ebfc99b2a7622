package org.supplyhub.mapping;

import ca.uhn.fhir.parser.IParser;
import ca.uhn.hl7v2.model.Message;
import org.junit.jupiter.api.Test;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.mapping.SupplyUsage.Flag;
import org.supplyhub.mapping.SupplyUsage.Implant;
import org.supplyhub.mapping.SupplyUsage.Item;
import org.supplyhub.mapping.SupplyUsage.Kind;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.mapping.SupplyUsage.Ref;
import org.supplyhub.mapping.SupplyUsage.Use;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The oracle of {@link FhirJsonWriter}: for every usage here, what it writes is, string for string,
 * what HAPI's JSON parser encodes of the resources {@link FhirMapper} builds (version 1 as it always
 * was), with the same resource type, id and line. Usages: every shipped sample and mapping test message
 * mapped by every interface that accepts it, the mapping fuzz's mutated samples, and a seeded random
 * corpus that varies every field the mapper reads (nulls, blanks, control characters, unicode and
 * lone surrogates, long text, decimals of any scale, dates at any precision and offset, every kind of
 * line, several devices, flags, systems present or absent). Shapes the writer leaves to HAPI
 * ({@link FhirJsonWriter#writable}) render through HAPI, counted.
 */
class FhirJsonWriterOracleTest {

    static final long SEED = 20261129_1805L;
    static final int RANDOM_USAGES = 6000;

    final IParser hapi = FhirConfiguration.newContext().newJsonParser();
    final FhirRenderer renderer = new FhirRenderer(FhirConfiguration.newContext(), FhirRendererTest.JSON);

    /** HAPI's encoding of the mapper's resources, as FhirRenderer rendered version 1 before the writer. */
    List<FhirRenderer.Rendered> oracle(SupplyUsage usage, RenderSpec.Systems systems) {
        return FhirRenderer.encode(FhirMapper.toFhirByLine(usage, systems), hapi);
    }

    void assertSame(SupplyUsage usage, RenderSpec.Systems systems, String where) {
        assertThat(FhirJsonWriter.writable(usage)).as("%s is writable", where).isTrue();
        List<FhirRenderer.Rendered> expected = oracle(usage, systems);
        List<FhirRenderer.Rendered> written = FhirJsonWriter.render(usage, systems);
        assertThat(written).as(where).hasSize(expected.size());
        for (int i = 0; i < expected.size(); i++) {
            // JSON first: a difference shows as a readable string diff
            assertThat(written.get(i).json()).as("%s, resource %d", where, i).isEqualTo(expected.get(i).json());
            assertThat(written.get(i)).as("%s, resource %d", where, i).isEqualTo(expected.get(i));
        }
        assertThat(renderer.render(usage, new RenderSpec(1, systems))).as(where).isEqualTo(expected);
    }

    @Test
    void everySampleAndMappingTestMessageWritesWhatHapiEncodes() throws Exception {
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        InterfaceCatalog catalog = InterfaceCatalog.load(interfaces.routesDir, interfaces.mappingsDir);
        MessageTranslator translator = new MessageTranslator(new Hl7Support());
        List<Path> files = new ArrayList<>();
        for (Path dir : List.of(TestInterfaces.samples(), Path.of("/work/shared/samples"),
                TestInterfaces.projectRoot().resolve("mappings/tests"))) {
            if (Files.isDirectory(dir)) {
                try (Stream<Path> walk = Files.walk(dir)) {
                    walk.filter(p -> p.toString().endsWith(".hl7")).sorted().forEach(files::add);
                }
            }
        }
        int accepted = 0;
        int resources = 0;
        for (Path f : files) {
            String text = Files.readString(f, StandardCharsets.UTF_8).replace("\r\n", "\r").replace('\n', '\r');
            for (String er7 : text.split("\r(?=MSH\\|)")) {
                // every interface that takes the message in: a profile maps other senders' samples too
                for (InterfaceDefinition iface : catalog.all()) {
                    String name = iface.id();
                    if (translator.translate(iface, er7.strip().getBytes(StandardCharsets.UTF_8), null)
                            instanceof MessageTranslator.Accepted a) {
                        accepted++;
                        assertSame(a.usage(), a.render().systems(), f.getFileName() + " " + Samples.controlId(er7) + " as " + name);
                        resources += oracle(a.usage(), a.render().systems()).size();
                    }
                }
            }
        }
        assertThat(accepted).isGreaterThanOrEqualTo(10);
        assertThat(resources).isGreaterThan(50);
        assertThat(renderer.hapiFallbacks()).isZero();
    }

    @Test
    void mutatedSamplesWriteWhatHapiEncodes() {
        Random random = new Random(SEED);
        List<String> samples = List.of(Samples.read(Samples.MERCY), Samples.read(Samples.LAKESIDE),
                Samples.read(Samples.MERCY_CREDIT));
        int compared = 0;
        for (int n = 0; n < 1500; n++) {
            String er7 = samples.get(random.nextInt(samples.size()));
            UsageMapper mapper = er7.contains("SURGINET") ? MappingSupport.LAKESIDE : MappingSupport.MERCY;
            List<String> mutations = new ArrayList<>();
            for (int m = 1 + random.nextInt(3); m > 0; m--) {
                er7 = MappingFuzzTest.mutate(er7, random, mutations);
            }
            SupplyUsage usage;
            try {
                Message message = MappingSupport.HL7.parse(er7);
                usage = mapper.map(message, "SENDER^FAC", Samples.controlId(er7), "DFT^P03");
            } catch (Exception refused) {
                continue; // the parser's or the mapper's answer, not rendering's business
            }
            assertSame(usage, RenderSpec.Systems.of(mapper.profile().systems()), "mutation " + n + " " + mutations);
            compared++;
        }
        assertThat(compared).isGreaterThan(300);
    }

    /**
     * The random usages give every component of a usage a value somewhere, but those FhirMapper does not
     * read: a field added to the usage and rendered by one side only fails the comparison above, once
     * the generator sets it, and this test until it does (or the field is named here as not rendered).
     */
    @Test
    void theRandomUsagesSetEveryComponentTheMapperReads() {
        Gen gen = new Gen(new Random(SEED));
        org.supplyhub.support.RecordCoverage coverage = new org.supplyhub.support.RecordCoverage();
        for (int n = 0; n < RANDOM_USAGES; n++) {
            coverage.add(gen.usage());
        }
        // not rendered: the patient is referenced by identifier alone, lines the profile skipped are not the hub's
        assertThat(coverage.neverSet()).isEqualTo(java.util.Set.of("SupplyUsage.patientAuthority", "SupplyUsage.skippedLines"));
    }

    @Test
    void randomUsagesWriteWhatHapiEncodes() {
        Random random = new Random(SEED);
        Gen gen = new Gen(random);
        int writable = 0;
        int resources = 0;
        for (int n = 0; n < RANDOM_USAGES; n++) {
            SupplyUsage usage = gen.usage();
            RenderSpec.Systems systems = new RenderSpec.Systems(gen.maybe(gen.text()), gen.maybe(gen.text()), gen.maybe(gen.text()));
            if (!FhirJsonWriter.writable(usage)) {
                continue; // leftToHapi covers these
            }
            writable++;
            assertSame(usage, systems, "random usage " + n + ": " + usage);
            resources += FhirJsonWriter.render(usage, systems).size();
        }
        System.out.printf("FhirJsonWriter oracle: %d random usages, %d writable, %d resources compared%n",
                RANDOM_USAGES, writable, resources);
        assertThat(writable).as("the corpus is mostly what the writer handles").isGreaterThan(RANDOM_USAGES * 9 / 10);
        assertThat(resources).isGreaterThan(RANDOM_USAGES * 3);
    }

    /** Every precision at the writer's year bounds and the offsets' extremes, on every date the mapper renders. */
    @Test
    void datesAtTheBoundsWriteWhatHapiEncodes() {
        SupplyUsage sample = MappingSupport.map(MappingSupport.MERCY, MappingSupport.mercy());
        RenderSpec.Systems systems = RenderSpec.current(MappingSupport.MERCY.profile()).systems();
        List<ZoneOffset> offsets = List.of(ZoneOffset.UTC, ZoneOffset.ofHours(14), ZoneOffset.ofHours(-14), ZoneOffset.ofHours(18),
                ZoneOffset.ofHours(-18), ZoneOffset.ofHoursMinutes(5, 45), ZoneOffset.ofHoursMinutes(0, -30),
                ZoneOffset.ofHoursMinutes(-9, -30));
        List<OffsetDateTime> times = new ArrayList<>();
        for (ZoneOffset offset : offsets) {
            times.add(OffsetDateTime.of(1600, 1, 1, 0, 0, 0, 0, offset));
            times.add(OffsetDateTime.of(1800, 1, 1, 0, 0, 0, 999_999, offset));
            times.add(OffsetDateTime.of(1969, 12, 31, 23, 59, 59, 999_999_999, offset));
            times.add(OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 1_000_000, offset));
            times.add(OffsetDateTime.of(2024, 2, 29, 12, 0, 0, 500_000_000, offset));
            times.add(OffsetDateTime.of(9999, 12, 31, 23, 59, 59, 999_999_999, offset));
        }
        List<ChronoUnit> units = Arrays.asList(null, ChronoUnit.DAYS, ChronoUnit.HOURS, ChronoUnit.MINUTES, ChronoUnit.SECONDS,
                ChronoUnit.MILLIS, ChronoUnit.MICROS);
        int n = 0;
        for (OffsetDateTime time : times) {
            for (ChronoUnit unit : units) {
                LocalDate date = time.toLocalDate();
                SupplyUsage usage = withLines(sample, sample.lines().stream().map(l -> l.toBuilder().serviceDate(time, unit)
                        .enteredDate(time, unit).implants(l.implants().isEmpty() ? List.of() : List.of(new Implant(null, null,
                                "00889024123458", "L", "S", date, date, null, null, null, null))).build()).toList())
                        .withFlags(List.of(new Flag("expired", "expired", 3, 0, "high", "d", true, time, null)));
                assertSame(usage, systems, time + " " + unit);
                n++;
            }
        }
        assertThat(n).isEqualTo(times.size() * units.size());
    }

    /** Dates HAPI's calendar renders otherwise, offsets it drops and null lines: HAPI encodes them, counted. */
    @Test
    void shapesTheWriterLeavesToHapiRenderThroughHapiCounted() {
        SupplyUsage sample = MappingSupport.map(MappingSupport.MERCY, MappingSupport.mercy());
        RenderSpec spec = RenderSpec.current(MappingSupport.MERCY.profile());
        List<SupplyUsage> leftToHapi = List.of(
                withLines(sample, sample.lines().stream().map(l -> l.toBuilder()
                        .serviceDate(OffsetDateTime.of(1500, 3, 1, 12, 0, 0, 0, ZoneOffset.UTC), ChronoUnit.SECONDS).build()).toList()),
                withLines(sample, sample.lines().stream().map(l -> l.toBuilder()
                        .enteredDate(OffsetDateTime.of(2026, 3, 1, 12, 0, 0, 0, ZoneOffset.ofHoursMinutesSeconds(5, 30, 15)),
                                ChronoUnit.MILLIS).build()).toList()),
                withLines(sample, sample.lines().stream().map(l -> l.toBuilder().implants(List.of(new Implant(null, null,
                        "00889024123458", null, null, LocalDate.of(12026, 1, 1), null, null, null, null, null))).build()).toList()),
                sample.withFlags(List.of(new Flag("expired", "expired", 3, 0, "high", null, true,
                        OffsetDateTime.of(1599, 12, 31, 23, 0, 0, 0, ZoneOffset.UTC), null))));
        long before = renderer.hapiFallbacks();
        int renderedByHapi = 0;
        for (SupplyUsage usage : leftToHapi) {
            assertThat(FhirJsonWriter.writable(usage)).isFalse();
            // what HAPI made of it before: its JSON, or its error (a five-digit year does not parse)
            Object expected = outcome(() -> oracle(usage, spec.systems()));
            assertThat(outcome(() -> renderer.render(usage, spec))).isEqualTo(expected);
            renderedByHapi += expected instanceof List<?> ? 1 : 0;
        }
        // counted when HAPI rendered it; one that renders nowhere is no fallback
        assertThat(renderedByHapi).isEqualTo(leftToHapi.size() - 1);
        assertThat(renderer.hapiFallbacks() - before).isEqualTo(renderedByHapi);

        // a null line fails as the mapper always failed on it, through the same path
        List<Line> withNull = new ArrayList<>(sample.lines());
        withNull.add(null);
        SupplyUsage broken = withLines(sample, withNull);
        assertThat(FhirJsonWriter.writable(broken)).isFalse();
        assertThatThrownBy(() -> renderer.render(broken, spec)).isInstanceOf(NullPointerException.class);
        // the writable sample itself never reaches HAPI
        long after = renderer.hapiFallbacks();
        renderer.render(sample, spec);
        assertThat(renderer.hapiFallbacks()).isEqualTo(after);
    }

    /** The value, or the class and message of what was thrown. */
    static Object outcome(java.util.function.Supplier<?> work) {
        try {
            return work.get();
        } catch (RuntimeException e) {
            return e.getClass().getName() + ": " + e.getMessage();
        }
    }

    static SupplyUsage withLines(SupplyUsage u, List<Line> lines) {
        return new SupplyUsage(u.interfaceId(), u.sender(), u.controlId(), u.messageType(), u.patient(), u.patientAuthority(),
                u.patientIdType(), u.account(), u.encounter(), lines, u.skippedLines(), u.flags());
    }

    /** Random values of every field FhirMapper reads, with the edges HAPI's encoder treats specially. */
    static final class Gen {
        static final String[] SPECIAL = {"", " ", "\t", "\u2003", "\u001d", " \u001c\u001f\n", "\u00a0", "\u0085", "\u2028",
                "a\"b", "c\\d", "</script>", "a/b", "http://example.org/fhir/sid/x?y=1&z=2#f", "\u0000", "\u007f",
                "\b\f\n\r\t", "é漢字", "🦴", "\ud83e", "\udd34x", "x\ud800", "  padded  ", "urn:uuid:123",
                "null", "true", "1E+3", "{\"a\":1}", "\u00e9\u0301", "\ufeff", "\uffff"};
        static final String[] REASONS = {"expired", "recalled", "di-mismatch", "serial-other-patient", "serial-reused"};
        final Random r;

        Gen(Random r) {
            this.r = r;
        }

        <T> T maybe(T value) {
            return r.nextInt(4) == 0 ? null : value;
        }

        String text() {
            return switch (r.nextInt(12)) {
                case 0 -> null;
                case 1, 2 -> SPECIAL[r.nextInt(SPECIAL.length)];
                case 3 -> chars(1 + r.nextInt(r.nextInt(20) == 0 ? 6000 : 40), true);
                case 4 -> SPECIAL[r.nextInt(SPECIAL.length)] + chars(r.nextInt(10), false) + SPECIAL[r.nextInt(SPECIAL.length)];
                default -> chars(1 + r.nextInt(24), false);
            };
        }

        /** Any UTF-16 code units ({@code any}), else mostly printable ASCII with some of everything. */
        String chars(int n, boolean any) {
            StringBuilder sb = new StringBuilder(n);
            for (int i = 0; i < n; i++) {
                int k = r.nextInt(any ? 4 : 20);
                char c = switch (k) {
                    case 0 -> (char) r.nextInt(0x10000);
                    case 1 -> (char) r.nextInt(0x20);
                    case 2 -> "\"\\/<>&'".charAt(r.nextInt(7));
                    case 3 -> (char) (0x80 + r.nextInt(0x780));
                    default -> (char) (0x20 + r.nextInt(0x5f));
                };
                sb.append(c);
            }
            return sb.toString();
        }

        Ref ref() {
            return switch (r.nextInt(6)) {
                case 0, 1 -> null;
                case 2 -> new Ref(null, null);
                case 3 -> new Ref(text(), null);
                default -> new Ref(text(), text());
            };
        }

        BigDecimal decimal() {
            return switch (r.nextInt(8)) {
                case 0 -> null;
                case 1 -> BigDecimal.ZERO.setScale(r.nextInt(12) - 6);
                case 2 -> new BigDecimal(new BigInteger(1 + r.nextInt(120), r).negate(), r.nextInt(40) - 20);
                case 3 -> new BigDecimal(new BigInteger(1 + r.nextInt(120), r), r.nextInt(400) - 200);
                case 4 -> new BigDecimal(List.of("1E+3", "-1.000", "0.00", "1E-7", "-0", "123456789.123456789", "2.5E-10")
                        .get(r.nextInt(7)));
                default -> BigDecimal.valueOf(r.nextInt(2001) - 1000, r.nextInt(4));
            };
        }

        OffsetDateTime time() {
            if (r.nextInt(5) == 0) {
                return null;
            }
            int year = r.nextInt(50) == 0 ? 1 + r.nextInt(12000) : r.nextInt(4) == 0 ? 1800 + r.nextInt(8200) : 1950 + r.nextInt(100);
            ZoneOffset offset = switch (r.nextInt(8)) {
                case 0 -> ZoneOffset.UTC;
                case 1 -> ZoneOffset.ofTotalSeconds((r.nextInt(37) - 18) * 3600);
                case 2 -> r.nextInt(10) == 0 ? ZoneOffset.ofTotalSeconds(r.nextInt(36001) - 18000) // seconds: left to HAPI
                        : ZoneOffset.ofTotalSeconds((r.nextInt(18 * 120 + 1) - 18 * 60) * 60);
                case 3 -> ZoneOffset.ofHoursMinutes(-(r.nextInt(15)), -(r.nextInt(60)));
                default -> ZoneOffset.ofHours(r.nextInt(29) - 14);
            };
            return OffsetDateTime.of(year, 1 + r.nextInt(12), 1 + r.nextInt(28), r.nextInt(24), r.nextInt(60), r.nextInt(60),
                    r.nextInt(4) == 0 ? 0 : r.nextInt(1_000_000_000), offset);
        }

        ChronoUnit precision() {
            ChronoUnit[] units = {null, ChronoUnit.DAYS, ChronoUnit.HOURS, ChronoUnit.MINUTES, ChronoUnit.SECONDS, ChronoUnit.MILLIS,
                    ChronoUnit.NANOS};
            return units[r.nextInt(units.length)];
        }

        LocalDate date() {
            if (r.nextInt(3) == 0) {
                return null;
            }
            int year = r.nextInt(60) == 0 ? r.nextInt(11000) : 1800 + r.nextInt(8200);
            return LocalDate.of(year, 1 + r.nextInt(12), 1 + r.nextInt(28));
        }

        SupplyUsage.Coding coding() {
            return r.nextInt(5) == 0 ? new SupplyUsage.Coding(null, null, null) : new SupplyUsage.Coding(text(), text(), text());
        }

        Item item() {
            if (r.nextInt(6) == 0) {
                return null;
            }
            Boolean stock = switch (r.nextInt(4)) {
                case 0 -> null;
                case 1 -> false;
                default -> true;
            };
            return new Item(text(), text(), text(), text(), text(), text(), r.nextInt(4) != 0, maybe(text()), maybe(text()),
                    text(), decimal(), text(), stock);
        }

        Implant implant() {
            String udi = switch (r.nextInt(5)) {
                case 0 -> null;
                case 1 -> "\u001d01" + chars(14, false) + "\u001d17" + chars(r.nextInt(30), r.nextBoolean());
                case 2 -> "(01)00889024123458(21)" + text();
                default -> text();
            };
            return new Implant(udi, maybe(text()), maybe(text()), text(), text(), date(), date(), text(), maybe(text()),
                    maybe(text()), text());
        }

        Line line(int index) {
            List<Implant> implants = new ArrayList<>();
            for (int i = r.nextInt(3) == 0 ? r.nextInt(4) : r.nextInt(2); i > 0; i--) {
                implants.add(implant());
            }
            List<SupplyUsage.Coding> reasons = new ArrayList<>();
            for (int i = r.nextInt(3); i > 0; i--) {
                reasons.add(coding());
            }
            List<String> notes = new ArrayList<>();
            for (int i = r.nextInt(3); i > 0; i--) {
                String note = text();
                notes.add(note == null ? "" : note);
            }
            Kind[] kinds = {Kind.CHARGE, Kind.CHARGE, Kind.CREDIT, null};
            Use[] uses = {Use.SUPPLY, Use.SUPPLY, Use.SERVICE, null};
            return Line.builder().index(r.nextInt(8) == 0 ? r.nextInt(6) : index)
                    .transactionId(r.nextInt(10) == 0 ? null : text())
                    .kind(kinds[r.nextInt(kinds.length)])
                    .serviceDate(time(), precision())
                    .item(ref()).itemText(text()).master(item())
                    .quantity(decimal()).unitPrice(decimal()).extendedPrice(decimal()).currency(text())
                    .costCenter(ref()).location(ref()).performer(ref()).procedure(ref())
                    .originalTransactionId(r.nextBoolean() ? null : text())
                    .implants(implants).use(uses[r.nextInt(uses.length)]).itemSystemUri(maybe(text()))
                    .enteredDate(time(), precision())
                    .reasons(reasons).enterer(ref()).performingOrganization(ref()).orderingOrganization(ref())
                    .ndc(r.nextBoolean() ? null : coding()).notes(notes)
                    .build();
        }

        Flag flag(int lines) {
            String reason = switch (r.nextInt(4)) {
                case 0 -> text();
                default -> REASONS[r.nextInt(REASONS.length)];
            };
            String severity = List.of("high", "low", "moderate", "").get(r.nextInt(4));
            return new Flag(text(), reason, r.nextInt(lines + 2), r.nextInt(5) - 1, r.nextInt(5) == 0 ? text() : severity,
                    text(), r.nextBoolean(), time(), r.nextBoolean() ? null : text());
        }

        SupplyUsage usage() {
            List<Line> lines = new ArrayList<>();
            for (int i = r.nextInt(10) == 0 ? 0 : 1 + r.nextInt(4), n = 1; i > 0; i--, n++) {
                lines.add(line(n));
            }
            List<Flag> flags = new ArrayList<>();
            for (int i = r.nextInt(3) == 0 ? 1 + r.nextInt(4) : 0; i > 0; i--) {
                flags.add(flag(lines.size()));
            }
            String interfaceId = r.nextInt(20) == 0 ? text() : Arrays.asList("mercy-or", "lakeside-cath", "x").get(r.nextInt(3));
            return new SupplyUsage(interfaceId, text(), text(), "DFT^P03", ref(), null, text(), ref(), ref(), lines, null, flags);
        }
    }
}
