package org.supplyhub.ingest.perf;

import org.supplyhub.support.BenchMessages;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Issue 16, intake path: a command (not a test) that compares the hub's CPU per message between builds
 * of the hub's classes, side by side on one busy machine. Each variant (a name and a directory of
 * compiled main classes) runs as its own hub JVM on PostgreSQL with delivery off; rounds alternate
 * between variants and report hub CPU ms/msg (from /proc), the CPU of that hub's own PostgreSQL
 * backends (found by application name in pg_stat_activity), closed-loop msg/s and ACK latency, and
 * optionally ACK latency at a fixed offered rate. Medians per variant close the run.
 *
 * <pre>java -cp TEST_CLASSPATH -Dharness.variants=new=hub/target/classes,base=/tmp/base/classes \
 *     org.supplyhub.ingest.perf.IntakeCpuHarness</pre>
 * Properties: harness.messages (8000), harness.connections (8), harness.rounds (3), harness.warmup
 * (8000), harness.rate (0: no paced run), harness.rateSeconds (10), harness.jvmArgs (extra hub JVM
 * arguments, e.g. a JFR recording), harness.encryption (true), harness.uniqueSerials (false).
 */
public final class IntakeCpuHarness {

    static final int MESSAGES = Integer.getInteger("harness.messages", 8000);
    static final int CONNECTIONS = Integer.getInteger("harness.connections", 8);
    static final int ROUNDS = Integer.getInteger("harness.rounds", 3);
    static final int WARMUP = Integer.getInteger("harness.warmup", 8000);
    static final int RATE = Integer.getInteger("harness.rate", 0);
    static final int RATE_SECONDS = Integer.getInteger("harness.rateSeconds", 10);
    /**
     * The bench's message repeats one implant (same DI, serial, patient and service time) in every message,
     * so each message's implant check reads every earlier use; true gives each message its own serial.
     */
    static final boolean UNIQUE_SERIALS = Boolean.getBoolean("harness.uniqueSerials");
    static final BenchMessages LOAD = new BenchMessages("H");

    record Variant(String name, String classes, Process hub, int port, Map<String, String> db) { }

    record Round(double hubMs, double pgMs, double rate, double p50, double p99, double pacedP99) { }

    public static void main(String[] args) throws Exception {
        String spec = System.getProperty("harness.variants", "current=" + Path.of("hub/target/classes").toAbsolutePath());
        List<Variant> variants = new ArrayList<>();
        for (String v : spec.split(",")) {
            String[] nc = v.split("=", 2);
            variants.add(start(nc[0], nc[1]));
        }
        Map<String, List<Round>> results = new LinkedHashMap<>();
        try {
            for (Variant v : variants) {
                waitForPort(v.port(), 900);
                closedLoop(v.port(), WARMUP, CONNECTIONS); // let the JIT settle
                results.put(v.name(), new ArrayList<>());
            }
            for (int r = 0; r < ROUNDS; r++) {
                for (Variant v : variants) {
                    Round round = round(v);
                    results.get(v.name()).add(round);
                    System.out.printf("round %d %-10s hub %.3f CPU ms/msg  PostgreSQL %.3f  %6.0f msg/s  p50 %.2f ms"
                                    + "  p99 %.2f ms%s  (load avg %s)%n", r + 1, v.name(), round.hubMs(), round.pgMs(),
                            round.rate(), round.p50(), round.p99(),
                            RATE > 0 ? String.format("  p99 @%d/s %.2f ms", RATE, round.pacedP99()) : "", loadAverage());
                }
            }
        } finally {
            for (Variant v : variants) {
                v.hub().destroy();
                v.hub().waitFor(30, TimeUnit.SECONDS);
            }
        }
        System.out.println("medians:");
        results.forEach((name, rounds) -> System.out.printf(
                "  %-10s hub %.3f CPU ms/msg  PostgreSQL %.3f  %6.0f msg/s  p99 %.2f ms%s%n", name,
                median(rounds, Round::hubMs), median(rounds, Round::pgMs), median(rounds, Round::rate),
                median(rounds, Round::p99), RATE > 0 ? String.format("  p99 @%d/s %.2f ms", RATE,
                        median(rounds, Round::pacedP99)) : ""));
    }

    static Round round(Variant v) throws Exception {
        Map<String, Long> pgBefore = backendTicks(v.db());
        long hubBefore = ticks(v.hub().pid());
        Result run = closedLoop(v.port(), MESSAGES, CONNECTIONS);
        long hubAfter = ticks(v.hub().pid());
        Map<String, Long> pgAfter = backendTicks(v.db());
        long pg = 0;
        for (Map.Entry<String, Long> e : pgAfter.entrySet()) {
            pg += e.getValue() - pgBefore.getOrDefault(e.getKey(), 0L);
        }
        double paced = Double.NaN;
        if (RATE > 0) {
            paced = openLoop(v.port(), RATE, RATE_SECONDS, CONNECTIONS).percentile(99);
        }
        if (run.failures() > 0) {
            System.out.printf("  %s: %d answers were not AA%n", v.name(), run.failures());
        }
        return new Round((hubAfter - hubBefore) * 10.0 / run.count(), pg * 10.0 / run.count(), run.throughput(),
                run.percentile(50), run.percentile(99), paced);
    }

    static double median(List<Round> rounds, java.util.function.ToDoubleFunction<Round> f) {
        double[] values = rounds.stream().mapToDouble(f).sorted().toArray();
        return values.length == 0 ? Double.NaN : values[values.length / 2];
    }

    static Variant start(String name, String classes) throws IOException {
        Map<String, String> base = TestDatabases.postgresOwnKek();
        Map<String, String> db = new LinkedHashMap<>(base);
        db.put("spring.datasource.url", base.get("spring.datasource.url") + "&ApplicationName=intake-harness-" + name);
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        int port = interfaces.ports.get("mercy-or");
        Path kek = Files.createTempFile("harness-kek", "");
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        Files.writeString(kek, java.util.Base64.getEncoder().encodeToString(key));
        List<String> command = new ArrayList<>(List.of(
                System.getProperty("java.home") + File.separator + "bin" + File.separator + "java", "-cp",
                classpathWith(classes), "-Xmx512m", "-Xms512m", "-XX:+UseParallelGC"));
        String extra = System.getProperty("harness.jvmArgs", "");
        if (!extra.isBlank()) {
            command.addAll(List.of(extra.replace("{name}", name).trim().split("\\s+")));
        }
        command.addAll(List.of("org.supplyhub.SupplyHubApplication", "--server.port=" + TestInterfaces.freePort(),
                "--logging.level.root=WARN", "--hub.delivery.enabled=false",
                "--hub.journal.encryption.enabled=" + System.getProperty("harness.encryption", "true"),
                "--hub.journal.encryption.key=file:" + kek));
        db.forEach((k, v) -> command.add("--" + k + "=" + v));
        interfaces.properties().forEach((k, v) -> command.add("--" + k + "=" + v));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(new File(System.getProperty("java.io.tmpdir"), "intake-harness-" + name + ".log"));
        pb.directory(TestInterfaces.projectRoot().toFile());
        Process process = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroy));
        return new Variant(name, classes, process, port, db);
    }

    /** This JVM's class path with the hub's main classes swapped for the variant's. */
    static String classpathWith(String classes) {
        String sep = File.pathSeparator;
        StringBuilder cp = new StringBuilder(Path.of(classes).toAbsolutePath().toString());
        for (String entry : System.getProperty("java.class.path").split(sep)) {
            if (!entry.endsWith("target/classes") && !entry.endsWith("target/classes/")) {
                cp.append(sep).append(entry);
            }
        }
        return cp.toString();
    }

    /** CPU ticks of this hub's PostgreSQL backends, by pid. */
    static Map<String, Long> backendTicks(Map<String, String> db) throws Exception {
        String app = db.get("spring.datasource.url").replaceAll(".*ApplicationName=", "");
        Map<String, Long> out = new LinkedHashMap<>();
        try (Connection c = DriverManager.getConnection(TestDatabases.postgresBaseUrl(), TestDatabases.postgresUser(),
                TestDatabases.postgresPassword());
             var ps = c.prepareStatement("select pid from pg_stat_activity where application_name = ?")) {
            ps.setString(1, app);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), ticks(rs.getLong(1)));
                }
            }
        }
        return out;
    }

    static long ticks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException e) {
            return "?";
        }
    }

    record Result(int count, long nanos, long[] latencies, int failures) {
        double throughput() {
            return count / (nanos / 1e9);
        }

        double percentile(double p) {
            long[] sorted = latencies.clone();
            Arrays.sort(sorted);
            int index = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, index))] / 1e6;
        }
    }

    static Result closedLoop(int port, int messages, int connections) throws Exception {
        return drive(port, messages / connections, connections, 0);
    }

    static Result openLoop(int port, int rate, int seconds, int connections) throws Exception {
        return drive(port, rate * seconds / connections, connections, 1_000_000_000L * connections / rate);
    }

    static Result drive(int port, int perConnection, int connections, long intervalNanos) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        long[] latencies = new long[perConnection * connections];
        AtomicLong failures = new AtomicLong();
        long started = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            int offset = c * perConnection;
            long phase = intervalNanos * c / connections;
            futures.add(pool.submit(() -> {
                try (Socket socket = new Socket("127.0.0.1", port)) {
                    socket.setSoTimeout(120_000);
                    socket.setTcpNoDelay(true);
                    OutputStream out = socket.getOutputStream();
                    InputStream in = new BufferedInputStream(socket.getInputStream());
                    for (int i = 0; i < perConnection; i++) {
                        long due = intervalNanos == 0 ? System.nanoTime() : started + phase + i * intervalNanos;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                        out.write(frame(LOAD.next(UNIQUE_SERIALS).getBytes(StandardCharsets.UTF_8)));
                        out.flush();
                        String ack = read(in);
                        latencies[offset + i] = System.nanoTime() - due;
                        if (ack == null || !ack.contains("\rMSA|AA|")) {
                            failures.incrementAndGet();
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        long elapsed = System.nanoTime() - started;
        pool.shutdown();
        return new Result(latencies.length, elapsed, latencies, (int) failures.get());
    }

    static byte[] frame(byte[] payload) {
        byte[] framed = new byte[payload.length + 3];
        framed[0] = 0x0b;
        System.arraycopy(payload, 0, framed, 1, payload.length);
        framed[framed.length - 2] = 0x1c;
        framed[framed.length - 1] = 0x0d;
        return framed;
    }

    static String read(InputStream in) throws IOException {
        int b;
        while ((b = in.read()) != 0x0b) {
            if (b < 0) {
                return null;
            }
        }
        ByteArrayOutputStream payload = new ByteArrayOutputStream(256);
        while ((b = in.read()) >= 0) {
            if (b == 0x1c) {
                in.read();
                return payload.toString(StandardCharsets.UTF_8);
            }
            payload.write(b);
        }
        return null;
    }

    /** The Mercy sample with a unique control id and transaction ids, spread over 500 patient accounts (as the bench). */
    static void waitForPort(int port, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(300);
            }
        }
        throw new IllegalStateException("nothing listening on " + port + " after " + seconds + " s; see "
                + System.getProperty("java.io.tmpdir") + "/intake-harness-*.log");
    }

    private IntakeCpuHarness() {
    }
}
