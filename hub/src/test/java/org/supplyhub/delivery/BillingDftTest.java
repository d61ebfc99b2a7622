package org.supplyhub.delivery;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;
import org.supplyhub.config.ConnectorKind;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.mapping.FhirMapper;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.SupplyUsage.Coding;
import org.supplyhub.mapping.SupplyUsage.Kind;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.mapping.SupplyUsage.Ref;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TimeZone;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The oracle: {@link BillingDft} writes exactly the text HAPI's {@code PipeParser.encode} makes of
 * {@link Payloads#billingDft}, for every shipped sample and mapping test message and for thousands
 * of random usages (nulls, unicode, delimiters and escape sequences, CR/LF and other whitespace at
 * either end, long values, decimals of any scale and sign, dates of every precision and offset,
 * credits, diagnoses, notes, NDC, item master rows or none, receivers or none, single released
 * lines). HAPI's MSH-7 is read from its own text and the writer's clock is pinned to that instant,
 * so the whole message, timestamps included, is compared. Where HAPI fails (a usage without a
 * patient, an item or a quantity) the writer must fail with the same exception class.
 */
class BillingDftTest {

    static final Path ROOT = TestInterfaces.projectRoot();
    static final Hl7Support HL7 = new Hl7Support();
    static final ObjectMapper JSON = Jackson2ObjectMapperBuilder.json()
            .featuresToDisable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).build();
    static final InterfaceCatalog CATALOG = InterfaceCatalog.load(ROOT.resolve("routes"), ROOT.resolve("mappings"));
    static final Payloads PAYLOADS = new Payloads(HL7, JSON);
    static final long SEED = 20261129_1805L;
    static final int RANDOM_CASES = 5000;

    /**
     * MSH-7 as initQuickstart writes it (seconds, an optional fraction of up to 3 digits, the offset)
     * and MSH-9 after it; found by its shape, since a receiver's name may hold a delimiter HAPI's
     * escaping leaves as it is (inside a formatting sequence such as \.a|b\).
     */
    static final Pattern TS = Pattern.compile("\\|(\\d{14})(?:\\.(\\d{1,3}))?([+-]\\d{4})\\|\\|DFT\\^P03\\^DFT_P03\\|");

    /** The instant of HAPI's MSH-7, so the writer can be pinned to it. */
    static Instant msh7(String er7) {
        Matcher m = TS.matcher(er7);
        assertThat(m.find()).as("MSH-7 in %s", er7).isTrue();
        String millis = m.group(2) == null ? "000" : (m.group(2) + "00").substring(0, 3);
        return OffsetDateTime.parse(m.group(1) + millis + m.group(3), DateTimeFormatter.ofPattern("yyyyMMddHHmmssSSSxx"))
                .toInstant();
    }

    /** Compares both; returns what was compared (HAPI's text, or the exception class both threw). */
    static String assertSame(DestinationDefinition d, long outboxId, SupplyUsage usage, List<Line> lines, String where)
            throws Exception {
        String hapi;
        try {
            hapi = HL7.encode(PAYLOADS.billingDft(d, outboxId, usage, lines));
        } catch (RuntimeException e) {
            BillingDft writer = new BillingDft(HL7, Clock.systemDefaultZone());
            Class<?> thrown = null;
            try {
                writer.compose(d, outboxId, usage, lines);
            } catch (RuntimeException w) {
                thrown = w.getClass();
            }
            assertThat(thrown).as("%s: HAPI threw %s", where, e).isEqualTo(e.getClass());
            return e.getClass().getName();
        }
        BillingDft writer = new BillingDft(HL7, Clock.fixed(msh7(hapi), ZoneId.systemDefault()));
        assertThat(writer.unmatched()).isNull();
        String written = writer.compose(d, outboxId, usage, lines);
        assertThat(written).as(where).isEqualTo(hapi);
        assertThat(written.getBytes(StandardCharsets.UTF_8)).as(where).isEqualTo(hapi.getBytes(StandardCharsets.UTF_8));
        return hapi;
    }

    static DestinationDefinition withReceiver(DestinationDefinition d, DestinationDefinition.Hl7Receiver receiver,
                                              String name) {
        return new DestinationDefinition(name, d.file(), d.connector(), d.output(), d.directory(), d.url(),
                d.timeout(), d.format(), d.maxAttempts(), d.maxAge(), d.initialBackoff(), d.maxBackoff(),
                d.pollInterval(), d.lease(), d.batchSize(), d.oauth2Registration(), d.retryRejected(), receiver);
    }

    static List<DestinationDefinition> billingDestinations() {
        return CATALOG.destinations().stream().filter(d -> d.output() == DestinationDefinition.Output.CHARGES).toList();
    }

    /** Every sample and mapping test message, taken in as intake does and read back from its journaled JSON. */
    static List<SupplyUsage> shippedUsages() throws Exception {
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        InterfaceCatalog catalog = InterfaceCatalog.load(interfaces.routesDir, interfaces.mappingsDir);
        MessageTranslator translator = new MessageTranslator(new Hl7Support());
        List<String[]> messages = new ArrayList<>();
        messages.add(new String[] {"mercy-or", Samples.read(Samples.MERCY)});
        messages.add(new String[] {"mercy-or", Samples.read(Samples.MERCY_CREDIT)});
        messages.add(new String[] {"lakeside-cath", Samples.read(Samples.LAKESIDE)});
        try (Stream<Path> files = Files.walk(Path.of("/work/shared/samples"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".hl7")).sorted().toList()) {
                String er7 = Files.readString(f, StandardCharsets.UTF_8);
                messages.add(new String[] {er7.contains("SURGINET") ? "lakeside-cath" : "mercy-or", er7});
            }
        } catch (java.nio.file.NoSuchFileException absent) {
            // the shared samples are the repository's samples; the copies above cover them
        }
        try (Stream<Path> files = Files.walk(ROOT.resolve("mappings/tests"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".hl7")).sorted().toList()) {
                String text = Files.readString(f, StandardCharsets.UTF_8).replace("\r\n", "\r").replace('\n', '\r');
                for (String er7 : text.split("\r(?=MSH\\|)")) {
                    messages.add(new String[] {f.getParent().getFileName().toString(), er7.strip()});
                }
            }
        }
        List<SupplyUsage> usages = new ArrayList<>();
        for (String[] m : messages) {
            if (translator.translate(catalog.get(m[0]), m[1].getBytes(StandardCharsets.UTF_8), null)
                    instanceof MessageTranslator.Accepted a) {
                usages.add(JSON.readValue(JSON.writeValueAsString(a.usage()), SupplyUsage.class));
            }
        }
        return usages;
    }

    @Test
    void everyShippedMessageIsWrittenAsHapiEncodesIt() throws Exception {
        List<SupplyUsage> usages = shippedUsages();
        assertThat(usages).hasSizeGreaterThanOrEqualTo(8);
        int compared = 0;
        for (SupplyUsage usage : usages) {
            List<Line> chargeable = usage.lines().stream().filter(Line::chargeable).toList();
            if (chargeable.isEmpty()) {
                continue;
            }
            for (DestinationDefinition d : billingDestinations()) {
                for (DestinationDefinition variant : List.of(d, withReceiver(d, null, d.name()),
                        withReceiver(d, new DestinationDefinition.Hl7Receiver(null, "FAC"), d.name()),
                        withReceiver(d, new DestinationDefinition.Hl7Receiver("APP", null), d.name()))) {
                    String where = usage.interfaceId() + " " + usage.controlId() + " to " + variant;
                    String hapi = assertSame(variant, 7, usage, chargeable, where);
                    assertThat(hapi).startsWith("MSH|");
                    for (Line release : chargeable) { // an operator's release: that line alone
                        assertSame(variant, 1234567890123L, usage, List.of(release), where + " line " + release.index());
                    }
                    compared++;
                }
            }
        }
        assertThat(compared).isGreaterThanOrEqualTo(32);
    }

    @Test
    void aFileDestinationIsRenderedByTheWriterAndAnMllpOneGetsTheSameBytes() throws Exception {
        SupplyUsage usage = shippedUsages().get(0);
        DestinationDefinition file = CATALOG.destination("mercy-billing");
        Clock pinned = Clock.fixed(Instant.parse("2026-11-29T18:05:00.120Z"), ZoneId.of("America/Chicago"));
        Payloads payloads = new Payloads(HL7, JSON, pinned);
        Connector.Payload p = payloads.render(file, 7, 3, usage, List.of());
        String er7 = new String(p.body(), StandardCharsets.UTF_8);
        List<Line> chargeable = usage.lines().stream().filter(Line::chargeable).toList();
        assertThat(er7).isEqualTo(new BillingDft(HL7, pinned).compose(file, 7, usage, chargeable));
        assertThat(er7).startsWith("MSH|^~\\&|SUPPLYHUB|HUB|PATACCT|MERCY|20261129120500.12-0600||DFT^P03^DFT_P03|SH7|P|2.5.1||||||UNICODE UTF-8\r"
                + "EVN|P03|20261129120500.12-0600\r");
        assertThat(payloads.dftFallbacks()).isZero();

        DestinationDefinition mllp = new DestinationDefinition(file.name(), file.file(), ConnectorKind.MLLP,
                file.output(), file.directory(), java.net.URI.create("mllp://127.0.0.1:1"), file.timeout(), file.format(),
                file.maxAttempts(), file.maxAge(), file.initialBackoff(), file.maxBackoff(), file.pollInterval(),
                file.lease(), file.batchSize(), file.oauth2Registration(), file.retryRejected(), file.receiver());
        Connector.Payload m = payloads.render(mllp, 7, 3, usage, List.of());
        assertThat(m.body()).isEqualTo(p.body());
        assertThat(payloads.dftFallbacks()).isZero();
    }

    @Test
    void aParserConfiguredToForceEmptyFieldsOutIsLeftToHapiAndCounted() throws Exception {
        Hl7Support forcing = new Hl7Support();
        forcing.newMessage(ca.uhn.hl7v2.model.v251.message.DFT_P03.class).getParser().getParserConfiguration()
                .addForcedEncode("PV1-30");
        Payloads payloads = new Payloads(forcing, JSON);
        SupplyUsage usage = shippedUsages().get(0);
        Connector.Payload p = payloads.render(CATALOG.destination("mercy-billing"), 7, 3, usage, List.of());
        assertThat(new String(p.body(), StandardCharsets.UTF_8)).contains("\rPV1|||||||||||||||||||V55012874|||||||||||\r");
        assertThat(payloads.dftFallbacks()).isEqualTo(1);
    }

    @Test
    void randomUsagesAreWrittenAsHapiEncodesThem() throws Exception {
        Random random = new Random(SEED);
        List<DestinationDefinition> destinations = billingDestinations();
        int thrown = 0;
        int hexEscapes = 0;
        int keptSequences = 0;
        int repeatedNotes = 0;
        for (int n = 0; n < RANDOM_CASES; n++) {
            SupplyUsage usage = randomUsage(random);
            DestinationDefinition d = destinations.get(random.nextInt(destinations.size()));
            d = switch (random.nextInt(4)) {
                case 0 -> withReceiver(d, null, text(random) == null ? "billing" : "billing-" + n);
                case 1 -> withReceiver(d, new DestinationDefinition.Hl7Receiver(text(random), text(random)), d.name());
                default -> d;
            };
            List<Line> lines = usage.lines();
            if (random.nextInt(5) == 0) { // a released line alone
                lines = List.of(lines.get(random.nextInt(lines.size())));
            }
            long outboxId = random.nextInt(3) == 0 ? random.nextLong() : random.nextInt(1_000_000);
            String compared = assertSame(d, outboxId, usage, lines, "case " + n);
            thrown += compared.startsWith("MSH|") ? 0 : 1;
            hexEscapes += compared.contains("\\X000d\\") ? 1 : 0;
            keptSequences += compared.contains("\\.br\\") ? 1 : 0;
            repeatedNotes += compared.contains("\rNTE|1||") && compared.matches("(?s).*\rNTE\\|1\\|\\|[^\r]*~.*") ? 1 : 0;
        }
        // the corpus reaches what it is meant to: failures HAPI has too, escapes of each kind, repetitions
        assertThat(thrown).isBetween(1, RANDOM_CASES / 20);
        assertThat(hexEscapes).isGreaterThan(RANDOM_CASES / 10);
        assertThat(keptSequences).isGreaterThan(RANDOM_CASES / 50);
        assertThat(repeatedNotes).isGreaterThan(RANDOM_CASES / 50);
    }

    /**
     * The random usages give every component of a usage a value somewhere, but those the billing DFT does
     * not carry: a field added to the usage and written by one side only fails the comparison above, once
     * the generator sets it, and this test until it does (or the field is named here as not billed).
     */
    @Test
    void theRandomUsagesSetEveryComponentTheDftReads() {
        Random random = new Random(SEED);
        org.supplyhub.support.RecordCoverage coverage = new org.supplyhub.support.RecordCoverage();
        for (int n = 0; n < RANDOM_CASES; n++) {
            coverage.add(randomUsage(random));
        }
        // not billed: devices and their flags (inventory's and FHIR's), the item master's GTIN and source code,
        // PID-3's system (it carries the assigning authority instead), lines the profile skipped
        assertThat(coverage.neverSet()).isEqualTo(java.util.Set.of("SupplyUsage.flags", "SupplyUsage.lines[].implants",
                "SupplyUsage.lines[].master.gtin", "SupplyUsage.lines[].master.sourceCode", "SupplyUsage.patient.system",
                "SupplyUsage.skippedLines"));
    }

    @Test
    void theTimestampsFollowTheDefaultZoneAsHapisDo() throws Exception {
        TimeZone before = TimeZone.getDefault();
        Random random = new Random(SEED + 1);
        try {
            for (String zone : List.of("Asia/Kathmandu", "America/St_Johns", "Pacific/Chatham", "UTC", "Europe/Dublin")) {
                TimeZone.setDefault(TimeZone.getTimeZone(zone));
                for (int n = 0; n < 50; n++) {
                    SupplyUsage usage = randomUsage(random);
                    assertSame(billingDestinations().get(0), n, usage, usage.lines(), zone + " case " + n);
                }
            }
        } finally {
            TimeZone.setDefault(before);
        }
    }

    // --- random usages ---------------------------------------------------------------------------

    static final String[] PIECES = {"a", "Z", "0", "9", " ", "  ", "\t", "\r", "\n", "\r\n", "\u000b", "\f", "\0",
            "\u001c", "\u007f", "\u00a0", "\u2003", "|", "^", "~", "\\", "&", "#", "é", "€", "漢", "😀", "\ud800",
            "\\.br\\", "\\X0D\\", "\\H\\", "\\N\\", "\\Zfoo\\", "\\C2842\\", "\\M2442\\", "\\F\\", "\\T\\", "\\E\\",
            "\\.", "\\X", "\\H", "\\.a|b\\", "\\.&^\\", "x\\", "\\", "MSH|", "\rFT1|", "null", "-", "."};

    static String text(Random r) {
        int kind = r.nextInt(20);
        if (kind == 0) {
            return null;
        }
        if (kind == 1) {
            return "";
        }
        StringBuilder s = new StringBuilder();
        int pieces = kind == 2 ? 200 + r.nextInt(800) : 1 + r.nextInt(kind < 10 ? 4 : 12);
        for (int i = 0; i < pieces; i++) {
            if (r.nextInt(3) == 0) {
                s.append(PIECES[r.nextInt(PIECES.length)]);
            } else {
                s.append((char) ('A' + r.nextInt(26)));
                if (r.nextBoolean()) {
                    s.append(r.nextInt(100));
                }
            }
        }
        if (r.nextInt(6) == 0) {
            s.insert(0, " \t".substring(0, 1 + r.nextInt(2)));
        }
        if (r.nextInt(6) == 0) {
            s.append(r.nextBoolean() ? " " : "\r\n");
        }
        return s.toString();
    }

    /** A value usage mapping could give, or anything at all. */
    static String value(Random r) {
        return r.nextInt(3) == 0 ? "V" + r.nextInt(100000) : text(r);
    }

    static Ref ref(Random r) {
        return r.nextInt(4) == 0 ? null : new Ref(r.nextBoolean() ? null : "https://example.org/sid/" + r.nextInt(5),
                value(r));
    }

    static final String[] SYSTEMS = {null, "C4", "CDM", "HCPCS", "I10", "http://www.ama-assn.org/go/cpt",
            FhirMapper.HCPCS, FhirMapper.NDC, "http://hl7.org/fhir/sid/icd-10-cm", "http://snomed.info/sct",
            "http://loinc.org", "urn:oid:2.16.840.1.113883.6.12", "http://unknown.example/cs", " I9 ", "a|b", ""};

    static String system(Random r) {
        return r.nextInt(8) == 0 ? text(r) : SYSTEMS[r.nextInt(SYSTEMS.length)];
    }

    static Coding coding(Random r) {
        return new Coding(system(r), value(r), r.nextBoolean() ? null : text(r));
    }

    static BigDecimal decimal(Random r) {
        int kind = r.nextInt(6);
        BigInteger unscaled = switch (kind) {
            case 0 -> BigInteger.ZERO;
            case 1 -> new BigInteger(120, r);
            default -> BigInteger.valueOf(r.nextInt(1_000_000));
        };
        if (r.nextInt(3) == 0) {
            unscaled = unscaled.negate();
        }
        int scale = r.nextInt(4) == 0 ? -r.nextInt(6) : r.nextInt(kind == 1 ? 40 : 5);
        return new BigDecimal(unscaled, scale);
    }

    static final ChronoUnit[] PRECISIONS = {null, ChronoUnit.DAYS, ChronoUnit.HOURS, ChronoUnit.MINUTES,
            ChronoUnit.SECONDS, ChronoUnit.MILLIS};

    static OffsetDateTime date(Random r) {
        long second = 1_000_000_000L + (long) (r.nextDouble() * 2_000_000_000L);
        int offsetMinutes = r.nextInt(4) == 0 ? 0 : (r.nextInt(57) - 28) * 30 + (r.nextInt(5) == 0 ? 15 : 0);
        offsetMinutes = Math.max(-14 * 60, Math.min(14 * 60, offsetMinutes));
        return OffsetDateTime.ofInstant(Instant.ofEpochSecond(second, r.nextInt(1000) * 1_000_000L),
                ZoneOffset.ofTotalSeconds(offsetMinutes * 60));
    }

    static SupplyUsage.Item item(Random r) {
        return new SupplyUsage.Item("ITEM" + r.nextInt(100), text(r), text(r), text(r), null, "EA", true,
                r.nextInt(4) == 0 ? null : value(r), r.nextBoolean() ? null : value(r), r.nextBoolean() ? null : value(r),
                r.nextBoolean() ? null : decimal(r), null, r.nextBoolean() ? null : r.nextBoolean());
    }

    static Line line(Random r, int index) {
        Kind kind = r.nextInt(3) == 0 ? Kind.CREDIT : Kind.CHARGE;
        boolean master = r.nextInt(3) != 0;
        List<Coding> reasons = new ArrayList<>();
        for (int i = r.nextInt(5) == 0 ? 1 + r.nextInt(4) : 0; i > 0; i--) {
            reasons.add(coding(r));
        }
        List<String> notes = new ArrayList<>();
        for (int i = r.nextInt(4) == 0 ? 1 + r.nextInt(4) : 0; i > 0; i--) {
            String note = text(r);
            notes.add(note == null ? "" : note);
        }
        String currency = r.nextInt(5) == 0 ? text(r) : r.nextInt(6) == 0 ? null : "USD";
        return Line.builder()
                .index(index)
                .transactionId(r.nextInt(20) == 0 ? text(r) : "TX-" + r.nextInt(100000) + "-" + index)
                .kind(kind)
                .serviceDate(r.nextInt(8) == 0 ? null : date(r), PRECISIONS[r.nextInt(PRECISIONS.length)])
                .item(r.nextInt(200) == 0 ? null : new Ref(system(r), value(r)))
                .itemText(text(r))
                .master(master ? item(r) : null)
                .quantity(r.nextInt(300) == 0 ? null : decimal(r))
                .unitPrice(r.nextInt(4) == 0 ? null : decimal(r))
                .extendedPrice(r.nextInt(4) == 0 ? null : decimal(r))
                .currency(currency)
                .costCenter(ref(r))
                .location(ref(r))
                .performer(ref(r))
                .procedure(ref(r))
                .originalTransactionId(r.nextBoolean() ? null : value(r))
                .use(r.nextBoolean() ? SupplyUsage.Use.SUPPLY : SupplyUsage.Use.SERVICE)
                .itemSystemUri(r.nextBoolean() ? null : system(r))
                .enteredDate(r.nextInt(3) == 0 ? date(r) : null, PRECISIONS[r.nextInt(PRECISIONS.length)])
                .reasons(reasons)
                .enterer(ref(r))
                .performingOrganization(ref(r))
                .orderingOrganization(ref(r))
                .ndc(r.nextInt(4) == 0 ? coding(r) : null)
                .notes(notes)
                .build();
    }

    static SupplyUsage randomUsage(Random r) {
        List<Line> lines = new ArrayList<>();
        for (int i = 1 + (r.nextInt(4) == 0 ? r.nextInt(12) : r.nextInt(3)); i > 0; i--) {
            lines.add(line(r, lines.size() + 1));
        }
        SupplyUsage.Assigner authority = r.nextInt(3) == 0 ? null
                : new SupplyUsage.Assigner(r.nextBoolean() ? null : value(r), r.nextBoolean() ? null : value(r),
                r.nextBoolean() ? null : value(r));
        Ref patient = r.nextInt(400) == 0 ? null : new Ref(null, r.nextInt(40) == 0 ? null : value(r));
        return new SupplyUsage("mercy-or", "ORMGR^MERCY_OR", "CTRL" + r.nextInt(1000), "DFT^P03", patient, authority,
                r.nextBoolean() ? null : value(r), ref(r), ref(r), lines, List.of());
    }
}
