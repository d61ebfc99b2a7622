package org.supplyhub.ingest;

import org.supplyhub.admin.MessageQueries;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import ca.uhn.fhir.context.FhirContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.support.Await;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 12 item 4 (after issue 9): mutated messages of all four sample interfaces (mercy-or 2.5.1,
 * lakeside-cath 2.8, riverside-ir 2.8, valley-cath 2.3) and random garbage, over real MLLP — several
 * persistent connections at once, frames answered one by one, several frames in one TCP write, and
 * frames split across writes — and over HTTP with a real token, to a hub on PostgreSQL.
 *
 * <p>Every frame must be answered within 10 s: an ACK (MLLP; a close is allowed only where the payload
 * itself holds FS CR, i.e. a framing error) or an HTTP answer below 500; no ERR 207 while the database
 * is up. Afterwards: the journal holds no half-written message (checked by SQL over every row), every
 * accepted row was answered AA, AA'd outputs pass the R4 validator, heap and thread count after GC
 * stay flat from the 10 % checkpoint on, and good messages of every interface still flow to delivery.
 *
 * <p>{@code -Dfuzz.frames=10000 -Dfuzz.seed=…} (defaults: 1,000 frames, a fixed seed for {@code ./mvnw verify}).
 * Frame i is generated from the seed and i alone, so a failure names what reproduces it.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
class FrameFuzzTest {

    static final long SEED = Long.decode(System.getProperty("fuzz.seed", "0x5EED20261129"));
    static final int FRAMES = Integer.getInteger("fuzz.frames", 1_000);
    static final Duration ANSWER_WITHIN = Duration.ofSeconds(10);
    /** Frame i goes on lane i % LANES; the first MLLP_LANES lanes are MLLP connections, the rest HTTP clients. */
    static final int LANES = 8;
    static final int MLLP_LANES = 6;
    /** Checkpoints (fraction of the frames sent) where heap and threads are measured after GC. */
    static final double[] CHECKPOINTS = {0.1, 0.5, 1.0};
    /**
     * Thread growth allowed from the first checkpoint to the last outside the hub's bounded pools
     * (which start threads on demand up to their configured size: see {@link #poolBounds()}): the
     * JDK's own helpers (common pool, HTTP client workers) come and go; a leak per connection or per
     * message would be hundreds.
     */
    static final int THREAD_TOLERANCE = 4;
    /**
     * Heap after full GC, first checkpoint to last. It includes this test's own outcomes (~0.5 KB a
     * frame: 5 MB at 10,000) and the journal's backlog being delivered; measured: +8 MB over 900
     * frames, see README Tests for 10,000. A retained message (2–300 KB raw, its parse and FHIR) per
     * frame would add hundreds of MB — the first draft of this test, keeping its payloads, showed +220 MB.
     */
    static final long HEAP_TOLERANCE_MB = 48;

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final String CLIENT = "fuzz-sender";
    static final String CLIENT_SECRET = "fuzz-demo-secret";
    static final List<String> IFACES = List.of("mercy-or", "lakeside-cath", "riverside-ir", "valley-cath");

    enum Transport { MLLP, HTTP }

    /** How a batch of MLLP frames was written. */
    enum Write { ACK_EACH, ONE_WRITE, SPLIT, ALONE }

    /**
     * A frame; {@code payload} is null once it was sent (outcomes keep what describes it, not its bytes).
     * {@code answers}: how many ACKs the hub owes for it over MLLP, by {@link #framesIn} (FS VT in the
     * payload makes two frames of it, each answered).
     */
    record Frame(int index, String iface, String controlId, byte[] payload, int length, boolean framingError,
                 int answers, List<String> mutations, Transport transport) {

        static Frame of(int index, String iface, String controlId, byte[] payload, List<String> mutations, Transport transport) {
            return new Frame(index, iface, controlId, payload, payload.length, holdsFsCr(payload),
                    framesIn(Mllp.frame(payload)), mutations, transport);
        }

        /** Holds FS CR: MLLP ends the frame there, so the hub sees a different frame count (a framing error). */
        static boolean holdsFsCr(byte[] payload) {
            for (int i = 0; i + 1 < payload.length; i++) {
                if (payload[i] == 0x1c && payload[i + 1] == 0x0d) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * What a frame got: its answers (ACKs, "HTTP nnn"), or a close, and a problem, if any. The test
     * runs in the hub's JVM, so an outcome keeps no payload and only the ACK's MSA and ERR (the heap
     * checkpoints measure the hub, not 10,000 kept frames: 1 % of them are 1.1 MB).
     */
    record Outcome(Frame frame, Write write, List<String> answers, boolean closed, long millis, String problem) {
        Outcome {
            frame = new Frame(frame.index(), frame.iface(), frame.controlId(), null, frame.length(), frame.framingError(),
                    frame.answers(), frame.mutations(), frame.transport());
            answers = answers.stream().map(Outcome::compact).toList();
        }

        static String compact(String answer) {
            if (answer.startsWith("HTTP") || segment(answer, "MSA") == null) {
                return answer.length() <= 300 ? answer : answer.substring(0, 300);
            }
            String err = segment(answer, "ERR");
            return "MSH|^~\\&" + "|".repeat(8) + field(segment(answer, "MSH"), 9) + "\r" + segment(answer, "MSA") + (err == null ? "" : "\r" + (err.length() <= 300 ? err : err.substring(0, 300)));
        }

        Outcome withProblem(String p) {
            return new Outcome(frame, write, answers, closed, millis, p);
        }
    }

    record Checkpoint(int frames, long elapsedMs, long heapMb, int threads, long directKb, Map<String, Integer> threadGroups) { }

    @Autowired
    JdbcTemplate jdbc;

    @Autowired
    JournalKeys journalKeys;

    @Autowired
    MessageQueries queries;

    @Autowired
    RunningConfig running;

    @Autowired
    org.springframework.core.env.Environment environment;

    @LocalServerPort
    int httpPort;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        // one client that may post to all four interfaces (the sample clients cover two)
        String hash = "{bcrypt}" + new BCryptPasswordEncoder(4).encode(CLIENT_SECRET);
        registry.add("hub.security.clients." + CLIENT + ".secret", () -> hash);
        registry.add("hub.security.clients." + CLIENT + ".scopes",
                () -> IFACES.stream().map(i -> "ingest:" + i).collect(Collectors.joining(",")));
    }

    final Map<String, String> tokens = new ConcurrentHashMap<>();
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .executor(Executors.newFixedThreadPool(2, daemon("fuzz-http"))).build();

    @Test
    void everyFuzzedFrameIsAnsweredAndNothingIsHalfWrittenOrLeaked() throws Exception {
        IFACES.forEach(i -> tokens.put(i, Tokens.fetch("http://127.0.0.1:" + httpPort, CLIENT, CLIENT_SECRET, "ingest:" + i)));
        warmUp();
        ExecutorService pool = Executors.newFixedThreadPool(LANES, daemon("fuzz-lane"));
        List<Outcome> outcomes = new ArrayList<>();
        List<Checkpoint> checkpoints = new ArrayList<>();
        long started = System.nanoTime();
        int from = 0;
        for (double at : CHECKPOINTS) {
            int to = (int) Math.round(FRAMES * at);
            List<Future<List<Outcome>>> lanes = new ArrayList<>();
            for (int lane = 0; lane < LANES; lane++) {
                int l = lane;
                int f = from;
                lanes.add(pool.submit(() -> l < MLLP_LANES ? mllpLane(l, f, to) : httpLane(l, f, to)));
            }
            for (Future<List<Outcome>> lane : lanes) {
                outcomes.addAll(lane.get(30, TimeUnit.MINUTES));
            }
            checkpoints.add(measure(to, (System.nanoTime() - started) / 1_000_000));
            from = to;
        }
        long sentMs = (System.nanoTime() - started) / 1_000_000;
        pool.shutdown();

        // every AA'd message journaled ACCEPTED with outputs that are valid R4
        List<Outcome> judged = checkAccepted(outcomes);
        long validatedMs = (System.nanoTime() - started) / 1_000_000 - sentMs;
        List<String> failures = new ArrayList<>(judged.stream().filter(o -> o.problem() != null).map(FrameFuzzTest::describe).toList());
        failures.addAll(journalInvariants(outcomes));

        summary(outcomes, checkpoints, sentMs, validatedMs);
        failures.stream().limit(30).forEach(f -> System.out.println("fuzz FAILURE: " + f));
        assertThat(outcomes).hasSize(FRAMES);
        assertThat(failures).as("%d failures (seed %s; see the output above)", failures.size(), Long.toHexString(SEED)).isEmpty();

        // flat: threads and heap after GC, from the first checkpoint to the last
        Checkpoint first = checkpoints.get(0);
        Checkpoint last = checkpoints.get(checkpoints.size() - 1);
        Map<String, Integer> bounds = poolBounds();
        int unbounded = 0;
        for (Map.Entry<String, Integer> group : last.threadGroups().entrySet()) {
            int before = first.threadGroups().getOrDefault(group.getKey(), 0);
            Integer bound = bounds.get(group.getKey());
            if (bound != null) {
                assertThat(group.getValue()).as("threads of pool %s", group.getKey()).isLessThanOrEqualTo(Math.max(before, bound));
            } else {
                unbounded += Math.max(0, group.getValue() - before);
            }
        }
        assertThat(unbounded).as("live threads outside the hub's bounded pools grew from %s to %s", first.threadGroups(),
                last.threadGroups()).isLessThanOrEqualTo(THREAD_TOLERANCE);
        assertThat(last.heapMb() - first.heapMb()).as("heap after GC grew (MB)").isLessThanOrEqualTo(HEAP_TOLERANCE_MB);

        // afterwards, good messages of every interface still flow, over MLLP and HTTP, to their destinations
        goodMessagesStillFlow();
        Await.until(() -> count("status = 'PENDING'") == 0, 120);
        assertThat(count("status = 'DEAD'")).as("outbox rows dead: an AA'd message that cannot be rendered").isZero();
    }

    /** Control ids answered AA outside the fuzzed frames (warm-up). */
    final Set<String> answeredBeforehand = new HashSet<>();

    /**
     * One good message per interface over MLLP and HTTP before the clock starts: a cold hub's first
     * message of an interface loads HAPI's and FHIR's models (seconds; on a machine shared by many
     * builds, over 10 s), which is start-up, not a frame the fuzz made the hub hang on.
     */
    void warmUp() throws Exception {
        for (String iface : IFACES) {
            String sample = BASES.stream().filter(b -> b[1].equals(iface)).findFirst().orElseThrow()[0];
            try (Mllp mllp = new Mllp(INTERFACES.ports.get(iface))) {
                String id = "WARM-" + iface;
                String ack = mllp.send(Samples.withControlId(sample, id), StandardCharsets.UTF_8);
                assertThat(ack).contains("\rMSA|AA|" + id);
                answeredBeforehand.add(ackId(ack));
            }
            String id = "WARM-HTTP-" + iface;
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/hl7/" + iface))
                    .header("Authorization", "Bearer " + tokens.get(iface)).header("Content-Type", "application/hl7-v2")
                    .POST(HttpRequest.BodyPublishers.ofString(Samples.withControlId(sample, id))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.body()).contains("\rMSA|AA|" + id);
            answeredBeforehand.add(ackId(response.body()));
        }
    }

    // lanes ------------------------------------------------------------------------------------

    /**
     * One MLLP sender: persistent connections (a new one now and then), frames in batches of 1–4 that
     * are answered one by one, written in one TCP write, or split across writes at random points
     * (also inside VT or FS CR). A frame holding FS CR goes alone on a new connection.
     */
    List<Outcome> mllpLane(int lane, int from, int to) {
        Random random = new Random(SEED ^ (lane * 0x9E3779B97F4A7C15L) ^ from);
        List<Outcome> outcomes = new ArrayList<>();
        List<Frame> batch = new ArrayList<>();
        Mllp connection = null;
        try {
            for (int i = first(lane, from); i < to; i += LANES) {
                Frame frame = frame(i);
                if (frame.framingError()) {
                    outcomes.add(alone(frame));
                    continue;
                }
                batch.add(frame);
                if (batch.size() < 1 + random.nextInt(4) && i + LANES < to) {
                    continue;
                }
                if (connection == null || random.nextInt(25) == 0) {
                    close(connection);
                    connection = connect(frame.iface());
                }
                Write write = Write.values()[random.nextInt(3)];
                List<Outcome> got = sendBatch(connection, batch, write, random);
                outcomes.addAll(got);
                if (got.stream().anyMatch(o -> o.problem() != null)) {
                    close(connection); // out of step with the hub: start over
                    connection = null;
                }
                batch.clear();
            }
            if (!batch.isEmpty()) { // the lane's last frames, when a framing error came last
                close(connection);
                connection = connect(batch.get(0).iface());
                outcomes.addAll(sendBatch(connection, batch, Write.ONE_WRITE, random));
            }
        } finally {
            close(connection);
        }
        return outcomes;
    }

    /** The frames of one MLLP connection share an interface (the lane's); HTTP lanes take turns over all four. */
    static String interfaceOf(int index) {
        int lane = index % LANES;
        return IFACES.get((lane < MLLP_LANES ? lane : index / LANES) % IFACES.size());
    }

    static int first(int lane, int from) {
        int r = Math.floorMod(lane - from, LANES);
        return from + r;
    }

    Mllp connect(String iface) {
        try {
            Mllp mllp = new Mllp(INTERFACES.ports.get(iface));
            mllp.socket().setSoTimeout((int) ANSWER_WITHIN.toMillis());
            mllp.socket().setTcpNoDelay(true);
            return mllp;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void close(Mllp mllp) {
        if (mllp != null) {
            try {
                mllp.close();
            } catch (IOException ignored) {
                // closing is all we wanted
            }
        }
    }

    List<Outcome> sendBatch(Mllp mllp, List<Frame> batch, Write write, Random random) {
        List<Outcome> outcomes = new ArrayList<>();
        try {
            long sent = System.nanoTime();
            if (write != Write.ACK_EACH) {
                ByteArrayOutputStream all = new ByteArrayOutputStream();
                batch.forEach(f -> all.writeBytes(Mllp.frame(f.payload())));
                byte[] bytes = all.toByteArray();
                if (write == Write.ONE_WRITE) {
                    mllp.write(bytes);
                } else {
                    int[] cuts = random.ints(1 + random.nextInt(5), 1, Math.max(2, bytes.length)).sorted().distinct().toArray();
                    int at = 0;
                    for (int cut : cuts) {
                        mllp.write(Arrays.copyOfRange(bytes, at, cut));
                        at = cut;
                        Thread.sleep(1 + random.nextInt(3)); // separate TCP segments
                    }
                    mllp.write(Arrays.copyOfRange(bytes, at, bytes.length));
                }
                sent = System.nanoTime();
            }
            for (Frame f : batch) {
                if (write == Write.ACK_EACH) {
                    mllp.write(Mllp.frame(f.payload()));
                    sent = System.nanoTime();
                }
                Outcome o = readAcks(mllp, f, write, f.answers(), sent);
                sent = System.nanoTime();
                outcomes.add(o);
                if (o.problem() != null) {
                    break;
                }
            }
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            outcomes.add(new Outcome(batch.get(outcomes.size()), write, List.of(), false, 0, "MLLP: " + e));
        }
        // the rest of a batch that went out of step is sent again, alone, so every frame is judged
        for (int k = outcomes.size(); k < batch.size(); k++) {
            outcomes.add(alone(batch.get(k)));
        }
        return outcomes;
    }

    /** A frame on its own connection: as many ACKs as the hub's framing makes frames of it, or a close if it is a framing error. */
    Outcome alone(Frame f) {
        try (Mllp mllp = connect(f.iface())) {
            mllp.write(Mllp.frame(f.payload()));
            return readAcks(mllp, f, Write.ALONE, f.answers(), System.nanoTime());
        } catch (IOException | UncheckedIOException e) {
            return new Outcome(f, Write.ALONE, List.of(), false, 0, "MLLP: " + e);
        }
    }

    /**
     * Reads a frame's ACKs. Answer time counts from the write, or from the connection's previous
     * answer when frames were pipelined (the hub takes a connection's frames one after another).
     */
    Outcome readAcks(Mllp mllp, Frame f, Write write, int expected, long sent) {
        List<String> acks = new ArrayList<>();
        long slowest = 0;
        try {
            for (int k = 0; k < expected; k++) {
                String ack = mllp.read(StandardCharsets.ISO_8859_1);
                long millis = (System.nanoTime() - sent) / 1_000_000;
                slowest = Math.max(slowest, millis);
                if (ack == null) {
                    return new Outcome(f, write, acks, true, millis, f.framingError() ? null : "MLLP: closed without an ACK");
                }
                acks.add(ack);
                sent = System.nanoTime(); // the next frame of the connection is taken after this answer
                String problem = judge(ack);
                if (problem != null) {
                    return new Outcome(f, write, acks, false, millis, problem);
                }
            }
            return new Outcome(f, write, acks, false, slowest, slowest > ANSWER_WITHIN.toMillis()
                    ? "SLOW: answered after " + slowest + " ms" : null);
        } catch (SocketTimeoutException e) {
            return new Outcome(f, write, acks, false, ANSWER_WITHIN.toMillis(),
                    "HANG: no answer within " + ANSWER_WITHIN.toSeconds() + " s");
        } catch (IOException e) {
            return new Outcome(f, write, acks, false, (System.nanoTime() - sent) / 1_000_000, "MLLP: " + e);
        }
    }

    List<Outcome> httpLane(int lane, int from, int to) {
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = first(lane, from); i < to; i += LANES) {
            outcomes.add(overHttp(frame(i)));
        }
        return outcomes;
    }

    Outcome overHttp(Frame f) {
        long sent = System.nanoTime();
        try {
            String type = switch (f.index() % 3) {
                case 0 -> "application/hl7-v2";
                case 1 -> "application/hl7-v2; charset=UTF-8";
                default -> "x-application/hl7-v2+er7";
            };
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/hl7/" + f.iface()))
                    .timeout(ANSWER_WITHIN)
                    .header("Authorization", "Bearer " + tokens.get(f.iface()))
                    .header("Content-Type", type)
                    .POST(HttpRequest.BodyPublishers.ofByteArray(f.payload())).build();
            HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
            long millis = (System.nanoTime() - sent) / 1_000_000;
            int status = response.statusCode();
            if (status >= 500) {
                return new Outcome(f, null, List.of("HTTP " + status), false, millis, "HTTP " + status + ": "
                        + new String(response.body(), StandardCharsets.ISO_8859_1));
            }
            if (status != 200) {
                boolean expected = status == 413 && f.payload().length > 1024 * 1024 || status == 400 && f.payload().length == 0;
                String contentType = response.headers().firstValue("Content-Type").orElse("");
                return new Outcome(f, null, List.of("HTTP " + status), false, millis,
                        expected && contentType.startsWith("application/problem+json") ? null : "HTTP " + status + " " + contentType);
            }
            String ack = new String(response.body(), StandardCharsets.ISO_8859_1);
            return new Outcome(f, null, List.of(ack), false, millis, judge(ack));
        } catch (HttpTimeoutException e) {
            return new Outcome(f, null, List.of(), false, ANSWER_WITHIN.toMillis(),
                    "HANG: no HTTP answer within " + ANSWER_WITHIN.toSeconds() + " s");
        } catch (IOException e) {
            return new Outcome(f, null, List.of(), false, (System.nanoTime() - sent) / 1_000_000, "HTTP: " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Outcome(f, null, List.of(), false, 0, "HTTP: interrupted");
        }
    }

    /** An ACK must parse, read AA/AE/AR in MSA-1 with standard delimiters and never carry ERR 207. */
    static String judge(String ack) {
        if (!ack.startsWith("MSH|^~\\&|") || segment(ack, "MSA") == null) {
            return "not a readable ACK";
        }
        String code = code(ack);
        if (!Set.of("AA", "AE", "AR").contains(code)) {
            return "MSA-1 is " + code;
        }
        String err = segment(ack, "ERR");
        if (err != null && err.contains("|207^")) {
            return "ERR 207 while the database is up";
        }
        return null;
    }

    /**
     * How many frames a strict listener makes of a byte stream, each answered once (see
     * {@link MllpFrameDecoder}): VT opens a frame; FS CR ends it; FS VT ends it too (refused AR, "frame
     * did not end with FS CR") and the VT opens the next; a final FS ends it after the end grace (AR);
     * FS followed by any other byte is data; bytes outside frames are noise. The standard's model (only FS
     * CR ends a frame) left the second ACK of an FS VT payload unread: the connection's later frames read
     * their predecessor's ACK and its last AA was never read (seed 0x5EED20261129, frames 332, 724, 872,
     * 969, 979).
     */
    static int framesIn(byte[] stream) {
        int frames = 0;
        boolean inFrame = false;
        for (int i = 0; i < stream.length; i++) {
            if (!inFrame) {
                inFrame = stream[i] == 0x0b;
            } else if (stream[i] == 0x1c) {
                boolean last = i + 1 == stream.length;
                if (last || stream[i + 1] == 0x0d || stream[i + 1] == 0x0b) {
                    frames++;
                    inFrame = !last && stream[i + 1] == 0x0b; // the VT opens the next frame
                    i++;
                }
            }
        }
        return frames;
    }

    // checks -----------------------------------------------------------------------------------

    /**
     * Every AA: an ACCEPTED message whose usage renders (as delivery and the admin API render it) to
     * resources that pass the R4 validator (once per distinct shape): no message is answered AA that
     * fails to render later.
     */
    List<Outcome> checkAccepted(List<Outcome> outcomes) {
        Map<String, Map.Entry<Long, String>> accepted = new HashMap<>();
        jdbc.query("select id, control_id, ack from message where status = 'ACCEPTED'",
                rs -> { accepted.put(ackId(journalKeys.openText(Column.MESSAGE_ACK, rs.getString(3))),
                        Map.entry(rs.getLong(1), String.valueOf(rs.getString(2)))); });
        Map<String, String> distinct = new LinkedHashMap<>();
        Map<Outcome, List<String>> keysOf = new LinkedHashMap<>();
        List<Outcome> checked = new ArrayList<>();
        for (Outcome o : outcomes) {
            List<String> aa = o.answers().stream().filter(a -> "AA".equals(code(a))).toList();
            if (o.problem() != null || aa.isEmpty()) {
                checked.add(o);
                continue;
            }
            List<String> keys = new ArrayList<>();
            String problem = null;
            for (String ack : aa) {
                Map.Entry<Long, String> message = accepted.get(ackId(ack));
                List<String> outputs;
                try {
                    outputs = message == null ? List.of()
                            : queries.outputs(message.getKey()).stream().map(MessageQueries.Output::resource).toList();
                } catch (RuntimeException e) {
                    problem = "AA (ACK " + ackId(ack) + ") but its usage does not render: " + e;
                    continue;
                }
                if (outputs.isEmpty()) {
                    problem = "AA (ACK " + ackId(ack) + ") but no ACCEPTED message with outputs answered with it";
                    continue;
                }
                String controlId = message.getValue() == null || message.getValue().isEmpty() ? "\u0000" : message.getValue();
                for (String json : outputs) {
                    String key = shape(json, controlId);
                    distinct.putIfAbsent(key, json);
                    keys.add(key);
                }
            }
            if (problem != null) {
                checked.add(o.withProblem(problem));
            } else {
                keysOf.put(o, keys);
            }
        }
        Map<String, List<String>> validated = new HashMap<>();
        distinct.forEach((key, json) -> validated.put(key, validate(json))); // one shared validator: parallel was slower
        keysOf.forEach((o, keys) -> {
            List<String> errors = keys.stream().flatMap(k -> validated.get(k).stream()).toList();
            checked.add(errors.isEmpty() ? o : o.withProblem("invalid R4: " + errors.get(0)));
        });
        System.out.printf("fuzz: %d distinct resource shapes validated%n", distinct.size());
        return checked;
    }

    /**
     * The ACK's own MSH-10: unique per answer the hub built, and kept with the message in the journal
     * (a resend is answered with the stored ACK), so an answer and its row match whatever the fuzz did
     * to the message's control id (escapes, invalid UTF-8, subcomponents, none at all).
     */
    static String ackId(String ack) {
        String msh = segment(ack, "MSH");
        return msh == null ? "" : field(msh, 9);
    }

    /**
     * No half-written message, by SQL over every row: an ACCEPTED message has its usage and exactly one
     * outbox row per destination of its interface, and no message has stored outputs (FHIR resources are
     * rendered from the usage, never journaled); ERROR and REJECTED ones have none of
     * these; every message has exactly one INGEST audit row with its ACK code; no two live rows share
     * a key; and every ACCEPTED message was answered AA (none accepted behind a close or a timeout).
     */
    List<String> journalInvariants(List<Outcome> outcomes) {
        List<String> problems = new ArrayList<>();
        Map<String, Set<String>> destinations = new HashMap<>();
        running.all().forEach(i -> destinations.put(i.id(), Set.copyOf(i.destinations())));
        Map<Long, List<String>> outbox = new HashMap<>();
        jdbc.query("select message_id, destination from outbox", rs -> {
            outbox.computeIfAbsent(rs.getLong(1), k -> new ArrayList<>()).add(rs.getString(2));
        });
        Map<Long, Integer> outputs = new HashMap<>();
        jdbc.query("select message_id, count(*) from message_output group by message_id",
                rs -> { outputs.put(rs.getLong(1), rs.getInt(2)); });
        Map<String, List<String>> audits = new HashMap<>();
        jdbc.query("select target, outcome from audit_event where action = 'INGEST'",
                rs -> { audits.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2)); });
        Set<String> answeredAa = new HashSet<>(answeredBeforehand);
        for (Outcome o : outcomes) {
            o.answers().stream().filter(a -> "AA".equals(code(a)))
                    .forEach(a -> answeredAa.add(ackId(a)));
        }
        Set<Long> messages = new HashSet<>();
        int[] rows = new int[1];
        jdbc.query("select id, interface_id, control_id, status, usage_json is not null, ack_code, ack from message", rs -> {
            rows[0]++;
            long id = rs.getLong(1);
            messages.add(id);
            String iface = rs.getString(2);
            String status = rs.getString(4);
            boolean usage = rs.getBoolean(5);
            List<String> rowsOut = outbox.getOrDefault(id, List.of());
            String what = "message " + id + " (" + iface + ", " + status + ", control id " + rs.getString(3) + "): ";
            if ("ACCEPTED".equals(status)) {
                if (!usage) {
                    problems.add(what + "ACCEPTED without its usage");
                }
                if (rowsOut.size() != destinations.get(iface).size() || !Set.copyOf(rowsOut).equals(destinations.get(iface))) {
                    problems.add(what + "outbox rows " + rowsOut + ", its destinations are " + destinations.get(iface));
                }
                if (!answeredAa.contains(ackId(journalKeys.openText(Column.MESSAGE_ACK, rs.getString(7))))) {
                    problems.add(what + "ACCEPTED but no frame was answered AA for it");
                }
            } else if (usage || !rowsOut.isEmpty()) {
                problems.add(what + "not ACCEPTED but has usage or outbox rows");
            }
            if (outputs.containsKey(id)) {
                problems.add(what + "has message_output rows: intake journals no FHIR resources");
            }
            List<String> audit = audits.getOrDefault("message " + id, List.of());
            if (audit.size() != 1 || !audit.get(0).equals(rs.getString(6))) {
                problems.add(what + "INGEST audit rows " + audit + " for ACK " + rs.getString(6));
            }
        });
        outbox.keySet().stream().filter(id -> !messages.contains(id)).forEach(id -> problems.add("orphan outbox rows of " + id));
        outputs.keySet().stream().filter(id -> !messages.contains(id)).forEach(id -> problems.add("orphan outputs of " + id));
        jdbc.queryForList("select dedup_key from message where dedup_key is not null group by dedup_key having count(*) > 1",
                String.class).forEach(k -> problems.add("two live messages share the key of " + k.length() + " chars"));
        System.out.printf("fuzz: journal invariants checked over %d messages, %d outbox rows, %d audit rows%n",
                rows[0], outbox.values().stream().mapToInt(List::size).sum(), audits.size());
        return problems;
    }

    /** One message of each sample, over MLLP (all in one write) and HTTP: each AA, then delivered. */
    void goodMessagesStillFlow() throws Exception {
        List<String> controlIds = new ArrayList<>();
        for (String iface : IFACES) {
            List<String> samples = BASES.stream().filter(b -> b[1].equals(iface)).map(b -> b[0]).toList();
            ByteArrayOutputStream frames = new ByteArrayOutputStream();
            List<String> ids = new ArrayList<>();
            for (int k = 0; k < samples.size(); k++) {
                String id = "AFTER-" + iface + "-" + k;
                ids.add(id);
                frames.writeBytes(Mllp.frame(Samples.withControlId(samples.get(k), id).getBytes(StandardCharsets.UTF_8)));
            }
            try (Mllp mllp = connect(iface)) {
                mllp.write(frames.toByteArray());
                for (String id : ids) {
                    assertThat(mllp.read(StandardCharsets.UTF_8)).as("after the fuzz, %s over MLLP", id).contains("\rMSA|AA|" + id);
                }
            }
            String id = "AFTER-HTTP-" + iface;
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/hl7/" + iface))
                    .header("Authorization", "Bearer " + tokens.get(iface)).header("Content-Type", "application/hl7-v2")
                    .POST(HttpRequest.BodyPublishers.ofString(Samples.withControlId(samples.get(0), id))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(response.body()).as("after the fuzz, %s over HTTP", id).contains("\rMSA|AA|" + id);
            controlIds.addAll(ids);
            controlIds.add(id);
        }
        String in = controlIds.stream().map(c -> "'" + c + "'").collect(Collectors.joining(","));
        Await.until(() -> jdbc.queryForObject("select count(*) from outbox o join message m on m.id = o.message_id"
                + " where m.control_id in (" + in + ") and o.status <> 'DELIVERED'", Long.class) == 0, 120);
        assertThat(jdbc.queryForObject("select count(distinct m.id) from outbox o join message m on m.id = o.message_id"
                + " where m.control_id in (" + in + ") and o.status = 'DELIVERED'", Long.class)).isEqualTo(controlIds.size());
    }

    /** The hub's thread pools that start threads on demand, by thread name (digits as #), and their configured sizes. */
    Map<String, Integer> poolBounds() {
        Map<String, Integer> bounds = new HashMap<>();
        bounds.put("mllp-intake##", environment.getProperty("camel.component.netty.maximum-pool-size", Integer.class, 32));
        // Camel's Netty consumers: a worker group of 2 x cores per listener, threads started as connections come
        bounds.put("Camel Thread # - NettyServerTCPWorker", 2 * Runtime.getRuntime().availableProcessors() * INTERFACES.ports.size());
        bounds.put("http-nio-auto#-exec#", environment.getProperty("server.tomcat.threads.max", Integer.class, 200));
        int senders = environment.getProperty("hub.delivery.senders", Integer.class, 8);
        running.destinations().forEach(d -> bounds.put(("deliver-" + d.name() + "-1").replaceAll("[-#]?\\d+", "#"), senders));
        return bounds;
    }

    long count(String where) {
        return jdbc.queryForObject("select count(*) from outbox where " + where, Long.class);
    }

    /** Live threads, heap and direct buffers after full GCs: what the run holds on to, not its garbage. */
    static Checkpoint measure(int frames, long elapsedMs) throws InterruptedException {
        for (int k = 0; k < 3; k++) {
            System.gc();
            Thread.sleep(200);
        }
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum()
                + io.netty.util.internal.PlatformDependent.usedDirectMemory();
        Map<String, Integer> groups = new TreeMap<>();
        Thread.getAllStackTraces().keySet().forEach(t -> groups.merge(t.getName().replaceAll("[-#]?\\d+", "#"), 1, Integer::sum));
        Checkpoint c = new Checkpoint(frames, elapsedMs, heap / (1024 * 1024), ManagementFactory.getThreadMXBean().getThreadCount(),
                direct / 1024, groups);
        if (Boolean.getBoolean("fuzz.histogram")) { // what the heap holds, to compare checkpoints
            try {
                Object histogram = ManagementFactory.getPlatformMBeanServer().invoke(
                        new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                        new Object[] {new String[0]}, new String[] {String[].class.getName()});
                Files.writeString(java.nio.file.Path.of("target/fuzz-histogram-" + frames + ".txt"), String.valueOf(histogram));
            } catch (Exception e) {
                System.out.println("fuzz: no class histogram: " + e);
            }
        }
        System.out.printf("fuzz checkpoint after %d frames (%d ms): heap after GC %d MB, %d live threads, direct %d KB%n",
                frames, elapsedMs, c.heapMb(), c.threads(), c.directKb());
        return c;
    }

    static void summary(List<Outcome> outcomes, List<Checkpoint> checkpoints, long sentMs, long validatedMs) {
        Map<String, Integer> kinds = new TreeMap<>();
        Map<String, Integer> answers = new TreeMap<>();
        Map<String, Integer> writes = new TreeMap<>();
        int closes = 0;
        Outcome slowest = outcomes.get(0);
        for (Outcome o : outcomes) {
            o.frame().mutations().forEach(m -> kinds.merge(m, 1, Integer::sum));
            for (String a : o.answers()) {
                answers.merge(o.frame().transport() + " " + (a.startsWith("HTTP") ? a : code(a)), 1, Integer::sum);
            }
            writes.merge(o.write() == null ? "HTTP" : o.write().name(), 1, Integer::sum);
            closes += o.closed() ? 1 : 0;
            slowest = o.millis() > slowest.millis() ? o : slowest;
        }
        System.out.printf("fuzz: %d frames (seed 0x%x) answered in %d ms (%.0f frames/s); outputs validated in %d ms%n",
                outcomes.size(), SEED, sentMs, outcomes.size() * 1000.0 / Math.max(1, sentMs), validatedMs);
        System.out.printf("fuzz: answers %s; clean closes on framing errors %d; framing-error frames %d; MLLP frames answered more than once"
                + " (FS CR or FS VT inside) %d%n", answers, closes, outcomes.stream().filter(o -> o.frame().framingError()).count(),
                outcomes.stream().filter(o -> o.frame().transport() == Transport.MLLP && o.frame().answers() > 1).count());
        System.out.printf("fuzz: writes %s%n", writes);
        System.out.printf("fuzz: mutation kinds %s%n", kinds);
        System.out.printf("fuzz: slowest answer %d ms: %s%n", slowest.millis(), describe(slowest));
        checkpoints.forEach(c -> System.out.printf("fuzz: at %d frames: heap %d MB, threads %d, direct %d KB%n",
                c.frames(), c.heapMb(), c.threads(), c.directKb()));
        Map<String, Integer> first = checkpoints.get(0).threadGroups();
        Map<String, String> grown = new TreeMap<>();
        checkpoints.get(checkpoints.size() - 1).threadGroups().forEach((group, n) -> {
            if (n != first.getOrDefault(group, 0)) {
                grown.put(group, first.getOrDefault(group, 0) + "→" + n);
            }
        });
        System.out.printf("fuzz: thread groups that changed from the first checkpoint to the last: %s%n", grown);
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
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
     * spaces, escapes — kept), so thousands of accepted messages need a few hundred validations.
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

    // generating -------------------------------------------------------------------------------

    /** The samples of the four interfaces (text, interface). */
    static final List<String[]> BASES = List.of(
            new String[] {Samples.read(Samples.MERCY), "mercy-or"},
            new String[] {Samples.read(Samples.MERCY_CREDIT), "mercy-or"},
            new String[] {Samples.read(Samples.LAKESIDE), "lakeside-cath"},
            new String[] {mappingTest("riverside-ir/stent-services-equipment.hl7"), "riverside-ir"},
            new String[] {mappingTest("riverside-ir/same-control-id-next-day.hl7"), "riverside-ir"},
            new String[] {mappingTest("valley-cath/iliac-stents-obx.hl7"), "valley-cath"});

    static String mappingTest(String name) {
        try {
            return Files.readString(TestInterfaces.projectRoot().resolve("mappings/tests").resolve(name), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static final String[] TEXT_MUTATIONS = {"duplicate-segment", "delete-segment", "swap-segments", "huge-field",
            "repetition-bomb", "msh-delimiters", "repeated-delimiters", "escaped-delimiters", "segment-separators",
            "charset", "version", "bad-number", "bad-date", "copy-field"};
    static final String[] BYTE_MUTATIONS = {"bitflip", "truncate", "delete-bytes", "duplicate-bytes", "control-char",
            "mllp-bytes", "nul", "invalid-utf8"};

    /** Frame {@code index}, from the seed and the index alone; its lane fixes the transport and interface. */
    static Frame frame(int index) {
        Random random = new Random(SEED + index * 0x9E3779B97F4A7C15L);
        int lane = index % LANES;
        String iface = interfaceOf(index);
        List<String[]> bases = BASES.stream().filter(b -> b[1].equals(iface)).toList();
        String controlId = "FZ" + index;
        String text = Samples.withControlId(bases.get(random.nextInt(bases.size()))[0].strip(), controlId);
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
            String separator = "\r";
            List<String> bytes = new ArrayList<>();
            for (int m = 0; m < count; m++) {
                boolean textual = random.nextInt(TEXT_MUTATIONS.length + BYTE_MUTATIONS.length) < TEXT_MUTATIONS.length;
                String mutation = textual ? TEXT_MUTATIONS[random.nextInt(TEXT_MUTATIONS.length)]
                        : BYTE_MUTATIONS[random.nextInt(BYTE_MUTATIONS.length)];
                applied.add(mutation);
                if (mutation.equals("segment-separators")) {
                    separator = new String[] {"\n", "\r\n", "\n\r", "\r\r", "\r\n\r\n"}[random.nextInt(5)];
                } else if (textual) {
                    mutateText(mutation, segments, random);
                } else {
                    bytes.add(mutation);
                }
            }
            payload = String.join(separator, segments).getBytes(StandardCharsets.UTF_8);
            for (String mutation : bytes) {
                payload = mutateBytes(mutation, payload, random);
            }
        }
        return Frame.of(index, iface, controlId, payload, applied, lane < MLLP_LANES ? Transport.MLLP : Transport.HTTP);
    }

    static void mutateText(String mutation, List<String> segments, Random random) {
        if (segments.isEmpty()) {
            return;
        }
        int s = random.nextInt(segments.size());
        switch (mutation) {
            case "duplicate-segment" -> {
                for (int k = random.nextInt(3) == 0 ? 50 : 1; k > 0; k--) {
                    segments.add(s, segments.get(s));
                }
            }
            case "delete-segment" -> segments.remove(s);
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
            case "msh-delimiters" -> { // MSH-1 / MSH-2 variants
                String msh = segments.get(0);
                String[] odd = {"MSH", "MSH|", "MSH|^~", "MSH|^^\\&", "MSH||~\\&", "MSH#^~\\&", "MSH|ABCD", "MSH|^~\\&#",
                        "MSH|\n^~\\&", "MSH|^~\n\\&", "MSH|^~\\&\\", "MSH|^~\\", "MSH|\u0000~\\&", "MSH| ~\\&", "MSH|^~|&",
                        "MSH|~^\\&", "MSH|^~\\&^~\\&", "MSH\r|^~\\&", "MSH||||", "MSH|^~\\&|"};
                String head = odd[random.nextInt(odd.length)];
                int cut = Math.min(msh.length(), 8);
                segments.set(0, head + msh.substring(cut));
                if (random.nextInt(4) == 0) { // or swap component and subcomponent everywhere
                    segments.replaceAll(x -> x.replace('^', '\u0001').replace('&', '^').replace('\u0001', '&'));
                }
            }
            case "repeated-delimiters" -> {
                String[] runs = {"||", "|||||||", "^^", "^^^^^", "~~", "&&&", "\\\\", "|^~\\&|"};
                String seg = segments.get(s);
                int at = random.nextInt(seg.length() + 1);
                segments.set(s, seg.substring(0, at) + runs[random.nextInt(runs.length)] + seg.substring(at));
            }
            case "escaped-delimiters" -> {
                String[] escapes = {"\\F\\", "\\S\\", "\\T\\", "\\R\\", "\\E\\", "\\X0D\\", "\\X1C0D\\", "\\X00\\", "\\XZZ\\",
                        "\\.br\\", "\\H\\", "\\N\\", "\\Z99\\", "\\", "\\F", "\\E\\\\E\\", "\\Cxxyy\\", "\\M\\", "\\X\\"};
                String seg = segments.get(s);
                int at = random.nextInt(seg.length() + 1);
                segments.set(s, seg.substring(0, at) + escapes[random.nextInt(escapes.length)] + seg.substring(at));
            }
            case "charset" -> {
                String[] charsets = {"8859/1", "ISO IR87", "~ISO IR87", "UNICODE UTF-16", "ASCII", "", "KLINGON", "ISO IR14",
                        "UNICODE UTF-32", "UNICODE UTF-8", "8859/15", "GB 18030-2000", "BIG-5"};
                segments.set(0, setField(segments.get(0), 17, charsets[random.nextInt(charsets.length)]));
            }
            case "version" -> {
                String[] versions = {"2.1", "2.2", "2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.9",
                        "3.0", "", "2.5.1^USA", "X", "2.8.2", "9".repeat(40)};
                segments.set(0, setField(segments.get(0), 11, versions[random.nextInt(versions.length)]));
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
            default -> throw new IllegalArgumentException(mutation);
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
                return Arrays.copyOf(payload, at);
            }
            case "delete-bytes", "duplicate-bytes" -> {
                int length = Math.min(payload.length - at, 1 + random.nextInt(random.nextBoolean() ? 8 : 400));
                out.write(payload, 0, at + length);
                if (mutation.equals("duplicate-bytes")) {
                    out.write(payload, at, length);
                } else {
                    out.reset();
                    out.write(payload, 0, at);
                }
                out.write(payload, at + length, payload.length - at - length);
                return out.toByteArray();
            }
            case "control-char", "mllp-bytes", "nul", "invalid-utf8" -> {
                byte[][] choices = switch (mutation) {
                    case "control-char" -> new byte[][] {{0x1a}, {0x07}, {0x1b}, {0x7f}, {0x01}, {0x1f}, {'\t'}, {0x0c}};
                    // MLLP's own bytes inside the content: VT, FS, FS CR (a framing error), lone CR/LF variants
                    case "mllp-bytes" -> new byte[][] {{0x0b}, {0x1c}, {0x1c, 0x0d}, {0x0d}, {'\n'}, {0x0d, '\n'}, {'\n', 0x0d},
                            {0x0d, 0x0d}, {0x1c, 0x0b}, {0x0b, 0x1c}, {0x1c, 0x0d, 0x0b}, {0x0b, 0x0b}, {0x1c, 0x1c}};
                    case "nul" -> new byte[][] {{0}, {0, 0, 0, 0}};
                    default -> new byte[][] {{(byte) 0xff}, {(byte) 0xc3, 0x28}, {(byte) 0xe2, (byte) 0x82}, {(byte) 0x80},
                            {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, {(byte) 0xc0, (byte) 0xaf}, {(byte) 0xf8, (byte) 0x88, (byte) 0x80},
                            {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80}, {(byte) 0xfe, (byte) 0xff}};
                };
                out.write(payload, 0, at);
                out.writeBytes(choices[random.nextInt(choices.length)]);
                out.write(payload, at, payload.length - at);
                return out.toByteArray();
            }
            default -> throw new IllegalArgumentException(mutation);
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

    static String describe(Outcome o) {
        Frame f = o.frame();
        String answer = o.answers().isEmpty() ? (o.closed() ? "closed" : "no answer") : o.answers().stream()
                .map(a -> a.startsWith("HTTP") ? a : segment(a, "MSA") + " " + segment(a, "ERR")).collect(Collectors.joining(" / "));
        if (answer.length() > 300) {
            answer = answer.substring(0, 300) + "…";
        }
        return "frame " + f.index() + " of seed 0x" + Long.toHexString(SEED) + " (" + f.iface() + ", " + f.transport()
                + (o.write() == null ? "" : " " + o.write()) + ", " + f.mutations() + ", " + f.length() + " bytes, "
                + o.millis() + " ms): " + o.problem() + " — " + answer;
    }
}
