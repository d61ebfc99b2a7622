package org.supplyhub.ingest;

import ca.uhn.fhir.context.FhirContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.Await;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 9's acceptance fuzz: 1,000 frames from a fixed seed — the three samples mutated (bit flips,
 * truncation, duplicated/removed/swapped segments, huge fields, repetition bombs, control characters,
 * NULs, wrong delimiters, non-UTF-8 bytes, odd charsets, bad numbers and dates, oversize) and random
 * garbage — sent over real MLLP and HTTP to a hub on PostgreSQL. Every frame must get an ACK (MLLP;
 * a close only if the payload itself holds an FS, i.e. a framing error) or an HTTP answer below 500;
 * no ERR 207 while the database is up; every AA'd message is journaled and renders R4 that passes
 * the validator.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class FrameFuzzTest {

    static final long SEED = 0x5EED_2026_1129L;
    static final int FRAMES = 1_000;
    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();

    record Frame(int index, String iface, String controlId, byte[] payload, List<String> mutations, boolean http) { }

    record Outcome(Frame frame, String answer, String problem) { }

    @Autowired
    JdbcTemplate jdbc;

    @LocalServerPort
    int httpPort;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    @Test
    void everyFuzzedFrameIsAnsweredAndEveryAcceptedOneIsJournaledAsValidR4() throws Exception {
        List<Frame> frames = generate(new Random(SEED));
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<Outcome>> futures = new ArrayList<>();
        for (Frame f : frames) {
            futures.add(pool.submit(() -> f.http() ? overHttp(f) : overMllp(f)));
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (Future<Outcome> f : futures) {
            outcomes.add(f.get(120, TimeUnit.SECONDS));
        }
        pool.shutdown();
        long sentMs = (System.nanoTime() - started) / 1_000_000;

        // every AA: journaled ACCEPTED, outputs valid R4 (validated once per distinct shape, in parallel)
        Map<String, String> distinct = new LinkedHashMap<>();
        Map<Outcome, List<String>> keysOf = new LinkedHashMap<>();
        List<Outcome> checked = new ArrayList<>();
        Map<String, Integer> codes = new TreeMap<>();
        for (Outcome o : outcomes) {
            codes.merge(o.problem() != null ? "problem" : o.answer() == null ? "closed"
                    : o.answer().startsWith("HTTP") ? o.answer() : code(o.answer()), 1, Integer::sum);
            if (o.problem() != null || !"AA".equals(code(o.answer()))) {
                checked.add(o);
                continue;
            }
            String controlId = unescape(field(segment(o.answer(), "MSA"), 2));
            List<String> outputs = jdbc.queryForList("select o.resource_json from message_output o join message m"
                    + " on m.id = o.message_id where m.control_id = ? and m.status = 'ACCEPTED'", String.class, controlId);
            if (outputs.isEmpty()) {
                checked.add(new Outcome(o.frame(), o.answer(), "AA but no ACCEPTED message with outputs for " + controlId));
                continue;
            }
            List<String> keys = new ArrayList<>();
            for (String json : outputs) {
                String key = shape(json, controlId);
                distinct.putIfAbsent(key, json);
                keys.add(key);
            }
            keysOf.put(o, keys);
        }
        Map<String, List<String>> validated = new java.util.HashMap<>();
        distinct.forEach((key, json) -> validated.put(key, validate(json)));
        keysOf.forEach((o, keys) -> {
            List<String> errors = keys.stream().flatMap(k -> validated.get(k).stream()).toList();
            checked.add(errors.isEmpty() ? o : new Outcome(o.frame(), o.answer(), "invalid R4: " + errors.get(0)));
        });

        List<Outcome> failures = checked.stream().filter(o -> o.problem() != null).toList();
        System.out.printf("fuzz: %d frames (seed %x) sent in %d ms; answers %s; %d distinct resources validated in %d ms%n",
                frames.size(), SEED, sentMs, codes, validated.size(), (System.nanoTime() - started) / 1_000_000 - sentMs);
        failures.stream().limit(20).forEach(o -> System.out.println("fuzz FAILURE: " + describe(o)));
        assertThat(frames).hasSizeGreaterThanOrEqualTo(1_000);
        assertThat(failures).as("frames without a proper answer (see the output above)").isEmpty();

        // nothing accepted stays undeliverable: every outbox row is delivered (file destinations),
        // none is left pending behind an account's unrenderable message, none is dead
        Await.until(() -> count("status = 'PENDING'") == 0, 120);
        assertThat(count("status = 'DEAD'")).as("outbox rows dead: an AA'd message that cannot be rendered").isZero();
        assertThat(count("status = 'DELIVERED'")).as("every AA'd message is owed to its destinations").isPositive();
    }

    long count(String where) {
        return jdbc.queryForObject("select count(*) from outbox where " + where, Long.class);
    }

    static final java.util.regex.Pattern UUID =
            java.util.regex.Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    static final java.util.regex.Pattern STRING_VALUE =
            java.util.regex.Pattern.compile("(\"(\\w+)\"\\s*:\\s*\")((?:[^\"\\\\]|\\\\.)*)\"");
    /** Values checked as sent: codes and the systems they come from. */
    static final Set<String> CODED = Set.of("resourceType", "system", "code", "currency", "status", "unit", "use",
            "jurisdiction", "issuer", "entryType");

    /**
     * What validity depends on: the resource with ids, the control id and the letters and digits of
     * every value that is not a code collapsed (their other characters — control characters,
     * spaces, escapes — kept), so 400 accepted messages need a few dozen validations, not 2,800.
     */
    static String shape(String json, String controlId) {
        String key = UUID.matcher(json.replace(controlId, "C")).replaceAll("U");
        return STRING_VALUE.matcher(key).replaceAll(m -> java.util.regex.Matcher.quoteReplacement(CODED.contains(m.group(2))
                ? m.group() : m.group(1) + m.group(3).replaceAll("[A-Za-z]+", "a").replaceAll("[0-9]+", "0") + "\""));
    }

    static List<String> validate(String json) {
        try {
            return R4Validator.errors(FhirContext.forR4Cached().newJsonParser().parseResource(json));
        } catch (RuntimeException e) {
            return List.of("unreadable: " + e.getClass().getSimpleName() + ": " + e.getMessage());
        }
    }

    // sending ----------------------------------------------------------------------------------

    Outcome overMllp(Frame f) {
        try (Mllp mllp = new Mllp(INTERFACES.ports.get(f.iface()))) {
            mllp.write(Mllp.frame(f.payload()));
            String ack = mllp.read(StandardCharsets.ISO_8859_1);
            if (ack == null) {
                boolean framingError = indexOf(f.payload(), (byte) 0x1c) >= 0;
                return new Outcome(f, null, framingError ? null : "MLLP: closed without an ACK");
            }
            return judge(f, ack);
        } catch (Exception e) {
            return new Outcome(f, null, "MLLP: " + e);
        }
    }

    Outcome overHttp(Frame f) {
        try {
            String client = f.iface().startsWith("lakeside") ? Tokens.LAKESIDE : Tokens.MERCY;
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/hl7/" + f.iface()))
                    .header("Authorization", "Bearer " + Tokens.sample(httpPort, client, "ingest:" + f.iface()))
                    .header("Content-Type", "application/hl7-v2")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(f.payload())).build();
            HttpResponse<byte[]> response = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
            int status = response.statusCode();
            if (status >= 500) {
                return new Outcome(f, null, "HTTP " + status + ": " + new String(response.body(), StandardCharsets.ISO_8859_1));
            }
            if (status != 200) {
                boolean expected = status == 413 && f.payload().length > 1024 * 1024 || status == 400 && f.payload().length == 0;
                String type = response.headers().firstValue("Content-Type").orElse("");
                return new Outcome(f, "HTTP " + status, expected && type.startsWith("application/problem+json")
                        ? null : "HTTP " + status + " " + type);
            }
            return judge(f, new String(response.body(), StandardCharsets.ISO_8859_1));
        } catch (Exception e) {
            return new Outcome(f, null, "HTTP: " + e);
        }
    }

    static final HttpClient HTTP = HttpClient.newHttpClient();

    /** An ACK must parse, read AA/AE/AR in MSA-1 with standard delimiters and never carry ERR 207. */
    static Outcome judge(Frame f, String ack) {
        if (!ack.startsWith("MSH|^~\\&|") || segment(ack, "MSA") == null) {
            return new Outcome(f, ack, "not a readable ACK");
        }
        String code = code(ack);
        if (!Set.of("AA", "AE", "AR").contains(code)) {
            return new Outcome(f, ack, "MSA-1 is " + code);
        }
        String err = segment(ack, "ERR");
        if (err != null && err.contains("|207^")) {
            return new Outcome(f, ack, "ERR 207 while the database is up");
        }
        return new Outcome(f, ack, null);
    }

    // generating -------------------------------------------------------------------------------

    static final String[][] BASES = {
            {Samples.MERCY, "mercy-or"}, {Samples.MERCY_CREDIT, "mercy-or"}, {Samples.LAKESIDE, "lakeside-cath"}};
    static final String[] MUTATIONS = {"bitflip", "truncate", "duplicate-segment", "remove-segment", "huge-field",
            "control-char", "wrong-delimiters", "nul", "non-utf8", "repetition-bomb", "charset", "swap-segments",
            "bad-number", "bad-date", "copy-field", "garbage", "oversize"};

    static List<Frame> generate(Random random) {
        List<Frame> frames = new ArrayList<>(FRAMES);
        for (int i = 0; i < FRAMES; i++) {
            String[] base = BASES[random.nextInt(BASES.length)];
            String controlId = "FZ" + i;
            String text = Samples.withControlId(Samples.read(base[0]), controlId);
            List<String> applied = new ArrayList<>();
            byte[] payload;
            int roll = random.nextInt(100);
            if (roll < 4) {
                applied.add("garbage");
                payload = new byte[random.nextInt(3000)];
                random.nextBytes(payload);
            } else if (roll < 5) {
                applied.add("oversize");
                payload = oversize(text).getBytes(StandardCharsets.UTF_8);
            } else if (roll < 12) {
                applied.add("none");
                payload = text.getBytes(StandardCharsets.UTF_8);
            } else {
                int count = 1 + random.nextInt(3);
                List<String> segments = new ArrayList<>(List.of(text.split("\r")));
                for (int m = 0; m < count; m++) {
                    String mutation = MUTATIONS[random.nextInt(MUTATIONS.length - 2)]; // garbage/oversize above
                    applied.add(mutation);
                    mutateText(mutation, segments, random);
                }
                payload = String.join("\r", segments).getBytes(StandardCharsets.UTF_8);
                for (String mutation : applied) {
                    payload = mutateBytes(mutation, payload, random);
                }
            }
            frames.add(new Frame(i, base[1], controlId, payload, applied, i % 2 == 1));
        }
        return frames;
    }

    static void mutateText(String mutation, List<String> segments, Random random) {
        if (segments.isEmpty()) {
            return;
        }
        int s = random.nextInt(segments.size());
        switch (mutation) {
            case "duplicate-segment" -> segments.add(s, segments.get(s));
            case "remove-segment" -> segments.remove(s);
            case "swap-segments" -> Collections.swap(segments, s, random.nextInt(segments.size()));
            case "huge-field" -> {
                int[] sizes = {1_000, 20_000, 70_000, 300_000};
                String filler = random.nextBoolean() ? "9" : "Z";
                segments.set(s, setField(segments.get(s), 1 + random.nextInt(12), filler.repeat(sizes[random.nextInt(sizes.length)])));
            }
            case "repetition-bomb" -> {
                String[] bombs = {"~", "^", "&", "~^&", "^&"};
                int[] counts = {50, 150, 600, 5_000, 100_000};
                segments.set(s, setField(segments.get(s), 1 + random.nextInt(20),
                        bombs[random.nextInt(bombs.length)].repeat(counts[random.nextInt(counts.length)])));
            }
            case "wrong-delimiters" -> {
                String msh = segments.get(0);
                String[] odd = {"MSH", "MSH|", "MSH|^~", "MSH|^^\\&", "MSH||~\\&", "MSH#^~\\&", "MSH|ABCD", "MSH|^~\\&#",
                        "MSH|\n^~\\&", "MSH|^~\n\\&"};
                String head = odd[random.nextInt(odd.length)];
                int cut = Math.min(msh.length(), 8);
                segments.set(0, head + msh.substring(cut));
                if (random.nextInt(4) == 0) { // or swap component and subcomponent everywhere
                    segments.replaceAll(x -> x.replace('^', '\u0001').replace('&', '^').replace('\u0001', '&'));
                }
            }
            case "charset" -> {
                String[] charsets = {"8859/1", "ISO IR87", "~ISO IR87", "UNICODE UTF-16", "ASCII", "", "KLINGON", "ISO IR14",
                        "UNICODE UTF-32"};
                segments.set(0, setField(segments.get(0), 17, charsets[random.nextInt(charsets.length)]));
            }
            case "bad-number" -> {
                String[] numbers = {"-0", "1e400", "99999999999999999999999", "abc", "1.5.6", "", "-1", "0", "1".repeat(1001),
                        "NaN", "12,5", "7.50^EUR", "7.50^XXX", "7.50^usd"};
                int ft1 = indexOf(segments, "FT1");
                if (ft1 >= 0) {
                    int field = new int[] {10, 11, 12}[random.nextInt(3)];
                    segments.set(ft1, setField(segments.get(ft1), field, numbers[random.nextInt(numbers.length)]));
                }
            }
            case "bad-date" -> {
                String[] dates = {"2026", "20261399", "20261114093512+9999", "x", "20261114", "202611140935", "19000101",
                        "20261114093512.1234-0600", "99991231235959"};
                int ft1 = indexOf(segments, "FT1");
                if (ft1 >= 0) {
                    segments.set(ft1, setField(segments.get(ft1), 4, dates[random.nextInt(dates.length)]));
                }
            }
            case "copy-field" -> {
                String from = segments.get(random.nextInt(segments.size()));
                String[] fields = from.split("\\|", -1);
                segments.set(s, setField(segments.get(s), 1 + random.nextInt(15), fields[random.nextInt(fields.length)]));
            }
            default -> { } // byte-level mutations below
        }
    }

    static byte[] mutateBytes(String mutation, byte[] payload, Random random) {
        if (payload.length == 0) {
            return payload;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(payload.length + 8);
        int at = random.nextInt(payload.length);
        switch (mutation) {
            case "bitflip" -> {
                byte[] copy = payload.clone();
                for (int k = 0, n = 1 + random.nextInt(5); k < n; k++) {
                    int p = random.nextInt(copy.length);
                    copy[p] ^= (byte) (1 << random.nextInt(8));
                }
                return copy;
            }
            case "truncate" -> {
                return java.util.Arrays.copyOf(payload, at);
            }
            case "control-char", "nul", "non-utf8" -> {
                byte[][] choices = switch (mutation) {
                    case "control-char" -> new byte[][] {{0x0b}, {0x1c}, {0x1a}, {0x07}, {0x1b}, {0x7f}, {'\n'}, {0x1c, 0x0d}};
                    case "nul" -> new byte[][] {{0}, {0, 0, 0, 0}};
                    default -> new byte[][] {{(byte) 0xff}, {(byte) 0xc3, 0x28}, {(byte) 0xe2, (byte) 0x82}, {(byte) 0x80},
                            {(byte) 0xed, (byte) 0xa0, (byte) 0x80}};
                };
                out.write(payload, 0, at);
                out.writeBytes(choices[random.nextInt(choices.length)]);
                out.write(payload, at, payload.length - at);
                return out.toByteArray();
            }
            default -> {
                return payload;
            }
        }
    }

    static String oversize(String text) {
        StringBuilder big = new StringBuilder(text);
        while (big.length() < 1_100_000) {
            big.append("\rNTE|1||").append("X".repeat(1000));
        }
        return big.toString();
    }

    static String setField(String segment, int field, String value) {
        String[] fields = segment.split("\\|", -1);
        if (field >= fields.length) {
            return segment + "|".repeat(field - fields.length + 1) + value;
        }
        fields[field] = value;
        return String.join("|", fields);
    }

    static int indexOf(List<String> segments, String name) {
        for (int i = 0; i < segments.size(); i++) {
            if (segments.get(i).startsWith(name + "|")) {
                return i;
            }
        }
        return -1;
    }

    static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    // reading ACKs -----------------------------------------------------------------------------

    static String segment(String ack, String name) {
        for (String segment : ack.split("\r")) {
            if (segment.startsWith(name + "|")) {
                return segment;
            }
        }
        return null;
    }

    static String code(String ack) {
        String msa = segment(ack, "MSA");
        return msa == null ? "none" : field(msa, 1);
    }

    static String field(String segment, int n) {
        String[] fields = segment.split("\\|", -1);
        return n < fields.length ? fields[n] : "";
    }

    /** HL7 escapes in a value (the ACK's delimiters are the standard ones). */
    static String unescape(String value) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            int end = c == '\\' ? value.indexOf('\\', i + 1) : -1;
            if (end < 0) {
                out.append(c);
                continue;
            }
            String seq = value.substring(i + 1, end);
            switch (seq) {
                case "F" -> out.append('|');
                case "S" -> out.append('^');
                case "T" -> out.append('&');
                case "R" -> out.append('~');
                case "E" -> out.append('\\');
                default -> {
                    if (seq.startsWith("X") && seq.length() >= 3) {
                        for (int k = 1; k + 1 < seq.length(); k += 2) {
                            out.append((char) Integer.parseInt(seq.substring(k, k + 2), 16));
                        }
                    } else {
                        out.append('\\').append(seq).append('\\');
                    }
                }
            }
            i = end;
        }
        return out.toString();
    }

    static String describe(Outcome o) {
        Frame f = o.frame();
        String answer = o.answer() == null ? "no answer" : o.answer().startsWith("HTTP") ? o.answer()
                : String.valueOf(segment(o.answer(), "MSA")) + " " + String.valueOf(segment(o.answer(), "ERR"));
        if (answer.length() > 300) {
            answer = answer.substring(0, 300) + "…";
        }
        return "frame " + f.index() + " (" + f.controlId() + ", " + f.iface() + ", " + (f.http() ? "HTTP" : "MLLP") + ", "
                + f.mutations() + ", " + f.payload().length + " bytes): " + o.problem() + " — " + answer;
    }
}
