package org.supplyhub.bench;

import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Intake benchmark (a command, not a test): starts the hub on PostgreSQL in its own JVM (-Xmx512m),
 * sends unique DFT^P03 (3 FT1 lines, one implant) over K MLLP connections and prints sustained msg/s
 * and ACK latency percentiles; then the same at a fixed offered rate; then the bare baseline (a
 * camel-mllp listener that only parses and ACKs) with the same client, and the ratio.
 *
 * <pre>./mvnw -pl hub -Pbench verify  [-Dbench.messages=20000 -Dbench.connections=8 -Dbench.rate=1000]</pre>
 * {@code -Dbench.mode=devices} runs {@link DeviceQueryBenchmark} instead.
 *
 * <p>Encryption at rest: {@code BENCH_ENCRYPTION=both} (the default; or {@code on}, {@code off}, as an
 * environment variable or {@code -Dbench.encryption}) first runs the closed loop with the journal's
 * encryption off, then the whole benchmark with it on (the product's default), and prints the hub's CPU
 * per message for each: what encrypting every PHI column costs.
 */
public final class IntakeBenchmark {

    static final int MESSAGES = Integer.getInteger("bench.messages", 20_000);
    static final int CONNECTIONS = Integer.getInteger("bench.connections", 8);
    static final int RATE = Integer.getInteger("bench.rate", 1000);
    static final int RATE_SECONDS = Integer.getInteger("bench.rateSeconds", 15);
    static final String TEMPLATE = Samples.read(Samples.MERCY);
    static final AtomicLong SEQUENCE = new AtomicLong();
    static final String RUN = Long.toString(System.currentTimeMillis(), 36).toUpperCase();

    public static void main(String[] args) throws Exception {
        if ("devices".equals(System.getProperty("bench.mode"))) {
            DeviceQueryBenchmark.run(); // the traceability query over 100,000 messages
            return;
        }
        if ("e2e".equals(System.getProperty("bench.mode"))) {
            int barePort = TestInterfaces.freePort();
            Process bare = startJvm(List.of("-Xmx512m", "-XX:+UseParallelGC", BareMllpServer.class.getName(),
                    String.valueOf(barePort)), "bare");
            double bareThroughput;
            try {
                waitForPort(barePort, 60);
                closedLoop(barePort, Math.min(10_000, MESSAGES / 2), CONNECTIONS);
                Result bareRun = closedLoop(barePort, MESSAGES, CONNECTIONS);
                print("bare (parse + ACK)", bareRun);
                bareThroughput = bareRun.throughput();
            } finally {
                bare.destroy();
                bare.waitFor(30, TimeUnit.SECONDS);
            }
            EndToEndBenchmark.run(bareThroughput);
            return;
        }
        System.out.printf("Supply Hub intake benchmark: %d messages, %d MLLP connections, %d cores%n",
                MESSAGES, CONNECTIONS, Runtime.getRuntime().availableProcessors());
        String encryption = System.getProperty("bench.encryption", System.getenv().getOrDefault("BENCH_ENCRYPTION", "both"));
        Map<String, Double> cpuOff = null;
        if (!"on".equals(encryption)) {
            // the same closed loop on a journal that stores everything in clear: the baseline of its CPU cost
            Map<String, String> plainDb = TestDatabases.postgresOwnKek();
            TestInterfaces plain = TestInterfaces.copyOfShipped();
            Process hub = startHub(plainDb, plain, TestInterfaces.freePort(), false);
            try {
                int port = plain.ports.get("mercy-or");
                waitForPort(port, 120);
                closedLoop(port, Math.min(10_000, MESSAGES / 2), CONNECTIONS);
                Map<String, Double> before = CpuTime.snapshot(hub.pid());
                Result run = closedLoop(port, MESSAGES, CONNECTIONS);
                cpuOff = cpuPerMessage(before, CpuTime.snapshot(hub.pid()), run.count());
                print("hub, encryption off", run);
                System.out.printf("  CPU per message   %s%n", CpuTime.perMessage(before, CpuTime.snapshot(hub.pid()), run.count()));
            } finally {
                hub.destroy();
                hub.waitFor(30, TimeUnit.SECONDS);
            }
            if ("off".equals(encryption)) {
                return;
            }
        }
        Map<String, String> db = TestDatabases.postgresOwnKek();
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        int port = interfaces.ports.get("mercy-or");
        int httpPort = TestInterfaces.freePort();
        Process hub = startHub(db, interfaces, httpPort, true);
        try {
            waitForPort(port, 120);
            Result warm = closedLoop(port, Math.min(10_000, MESSAGES / 2), CONNECTIONS); // let the JIT settle
            System.out.printf("hub warm-up         %8.0f msg/s%n", warm.throughput());
            Map<String, Double> cpuBefore = CpuTime.snapshot(hub.pid());
            Result hubRun = closedLoop(port, MESSAGES, CONNECTIONS);
            Map<String, Double> cpuAfter = CpuTime.snapshot(hub.pid());
            print("hub (PostgreSQL)", hubRun);
            System.out.printf("  CPU per message   %s%n", CpuTime.perMessage(cpuBefore, cpuAfter, hubRun.count()));
            Map<String, Double> cpuOn = cpuPerMessage(cpuBefore, cpuAfter, hubRun.count());
            if (cpuOff != null && !cpuOn.isEmpty() && !cpuOff.isEmpty()) {
                System.out.printf("encryption cost     hub %.3f -> %.3f CPU ms per message (%+.3f), PostgreSQL %.3f -> %.3f%n",
                        cpuOff.get("hub"), cpuOn.get("hub"), cpuOn.get("hub") - cpuOff.get("hub"),
                        cpuOff.get("PostgreSQL"), cpuOn.get("PostgreSQL"));
            }
            runRest(db, port, httpPort, hub, hubRun);
        } finally {
            hub.destroy();
        }
    }

    static Map<String, Double> cpuPerMessage(Map<String, Double> before, Map<String, Double> after, int messages) {
        Map<String, Double> per = new java.util.LinkedHashMap<>();
        after.forEach((part, ms) -> per.put(part, Math.max(0, ms - before.getOrDefault(part, 0.0)) / messages));
        return per;
    }

    /** The hub in its own JVM on PostgreSQL, intake alone, with the journal's encryption on or off. */
    static Process startHub(Map<String, String> db, TestInterfaces interfaces, int httpPort, boolean encrypted)
            throws IOException {
        List<String> hubArgs = new ArrayList<>(List.of("-Xmx512m", "-Xms512m", "-XX:+UseParallelGC"));
        java.nio.file.Path kek = java.nio.file.Files.createTempFile("bench-kek", "");
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        java.nio.file.Files.writeString(kek, java.util.Base64.getEncoder().encodeToString(key));
        String extra = System.getProperty("bench.hubJvmArgs", ""); // e.g. a JFR recording
        if (!extra.isBlank()) {
            hubArgs.addAll(List.of(extra.trim().split("\\s+")));
        }
        hubArgs.addAll(List.of(
                "org.supplyhub.SupplyHubApplication", "--server.port=" + httpPort, "--logging.level.root=WARN",
                "--hub.delivery.enabled=false")); // intake alone; deliveries are the end-to-end benchmark's
        hubArgs.add("--hub.journal.encryption.enabled=" + encrypted);
        hubArgs.add("--hub.journal.encryption.key=file:" + kek);
        db.forEach((k, v) -> hubArgs.add("--" + k + "=" + v));
        interfaces.properties().forEach((k, v) -> hubArgs.add("--" + k + "=" + v));
        return startJvm(hubArgs, encrypted ? "hub" : "hub-plain");
    }

    /** The paced runs, heap and journal figures of the (encrypted) hub, then the bare baseline. */
    static void runRest(Map<String, String> db, int port, int httpPort, Process hub, Result hubRun) throws Exception {
        {
            Result half = openLoop(port, RATE / 2, RATE_SECONDS, CONNECTIONS);
            print("hub @ " + RATE / 2 + " msg/s offered", half);
            Result paced = openLoop(port, RATE, RATE_SECONDS, CONNECTIONS);
            print("hub @ " + RATE + " msg/s offered", paced);
            long heapMax = heap(httpPort, "max");
            long heapUsed = heap(httpPort, "used");
            System.out.printf("hub heap            used %d MB of max %d MB (-Xmx512m)%n", heapUsed >> 20, heapMax >> 20);
            // resources are encrypted: the check of their control id is the integration tests' (they decrypt)
            System.out.printf("journal rows        %d messages, %d resources, %d raw messages stored in clear%n",
                    journaled(db, "select count(*) from message"), journaled(db, "select count(*) from message_output"),
                    journaled(db, "select count(*) from message where substring(raw from 1 for 3) = 'MSH'::bytea"));

            hub.destroy();
            hub.waitFor(30, TimeUnit.SECONDS);

            int barePort = TestInterfaces.freePort();
            Process bare = startJvm(List.of("-Xmx512m", "-Xms512m", "-XX:+UseParallelGC",
                    BareMllpServer.class.getName(), String.valueOf(barePort)), "bare");
            try {
                waitForPort(barePort, 60);
                closedLoop(barePort, Math.min(10_000, MESSAGES / 2), CONNECTIONS);
                Result bareRun = closedLoop(barePort, MESSAGES, CONNECTIONS);
                print("bare (parse + ACK)", bareRun);
                System.out.printf("%nratio hub / bare    %.2f   (target >= 0.5)%n", hubRun.throughput() / bareRun.throughput());
                System.out.printf("p99 at %d msg/s     %.1f ms (target <= 20 ms); at %d msg/s %.1f ms%n", RATE,
                        paced.percentile(99), RATE / 2, half.percentile(99));
            } finally {
                bare.destroy();
            }
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

    static void print(String name, Result r) {
        System.out.printf("%-20s%8.0f msg/s   ACK latency p50 %.2f ms  p95 %.2f ms  p99 %.2f ms   (%d messages, %d not AA)%n",
                name, r.throughput(), r.percentile(50), r.percentile(95), r.percentile(99), r.count(), r.failures());
    }

    /** Each connection sends as fast as its ACKs come back. */
    static Result closedLoop(int port, int messages, int connections) throws Exception {
        return drive(port, messages / connections, connections, 0);
    }

    /** A fixed offered rate spread over the connections; latency counts from the scheduled send time. */
    static Result openLoop(int port, int rate, int seconds, int connections) throws Exception {
        return drive(port, rate * seconds / connections, connections, 1_000_000_000L * connections / rate);
    }

    /** Sends over K connections; with an interval, each connection sends on schedule (open loop). */
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
                try (Mllp mllp = new Mllp(port)) {
                    for (int i = 0; i < perConnection; i++) {
                        long due = intervalNanos == 0 ? System.nanoTime() : started + phase + i * intervalNanos;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                        String ack = mllp.send(nextMessage(), StandardCharsets.UTF_8);
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

    /** The Mercy sample with a unique control id and transaction ids, spread over 500 patient accounts. */
    static String nextMessage() {
        long n = SEQUENCE.incrementAndGet();
        String id = "B" + RUN + "-" + n;
        return Samples.withControlId(TEMPLATE, id).replace("TX-88120-", "TX-" + RUN + n + "-")
                .replace("ACCT90017733", "ACCT" + (90_000_000 + n % 500));
    }

    static Process startJvm(List<String> args, String name) throws IOException {
        List<String> command = new ArrayList<>();
        command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(new File(System.getProperty("java.io.tmpdir"), "supplyhub-bench-" + name + ".log"));
        pb.directory(TestInterfaces.projectRoot().toFile());
        Process process = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(process::destroy));
        return process;
    }

    static void waitForPort(int port, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("nothing listening on " + port + " after " + seconds + " s; see the log in "
                + System.getProperty("java.io.tmpdir"));
    }

    static long heap(int httpPort, String which) throws Exception {
        // metrics need metrics:read, like any scraper: the sample admin client has it
        String token = org.supplyhub.support.Tokens.sample(httpPort, org.supplyhub.support.Tokens.ADMIN, "metrics:read");
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + httpPort + "/actuator/metrics/jvm.memory." + which + "?tag=area:heap"))
                .header("Authorization", "Bearer " + token).build(), HttpResponse.BodyHandlers.ofString());
        String body = r.body();
        int at = body.indexOf("\"value\":");
        if (at < 0) {
            return -1;
        }
        String number = body.substring(at + 8).split("[,}]")[0];
        return (long) Double.parseDouble(number);
    }

    static long journaled(Map<String, String> db, String countQuery) throws Exception {
        try (Connection c = DriverManager.getConnection(db.get("spring.datasource.url"),
                TestDatabases.postgresUser(), TestDatabases.postgresPassword())) {
            var rs = c.createStatement().executeQuery(countQuery);
            rs.next();
            return rs.getLong(1);
        }
    }
}
