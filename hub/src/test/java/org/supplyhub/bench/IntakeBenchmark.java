package org.supplyhub.bench;

import org.supplyhub.support.BenchMessages;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

/**
 * Intake benchmark (a command, not a test), as issue 16 asks.
 *
 * <p>Headline: the hub in its default configuration — delivery on, to the shipped file destinations
 * (written below a temp directory), PostgreSQL, journal encryption on — in its own JVM (-Xmx512m),
 * against the plain bare limit ({@link PlainBareServer}, own JVM), driven by the same client over K
 * MLLP connections with unique Mercy messages. After warm-ups, {@link #ROUNDS} alternating rounds
 * bare/hub; a hub round ends when its outbox has drained, so its delivery backlog never runs during
 * the next bare round. Per round and as medians: msg/s taken (ACKs), msg/s delivered (round start to
 * outbox drained), ACK p50/p95/p99, CPU ms per message from /proc for every process involved, and
 * the ratios hub/bare. Then ACK p99 at a fixed offered rate (open loop), the hub's heap, and a second
 * line: intake only ({@code hub.delivery.enabled=false}) against the bare.
 *
 * <pre>./mvnw -pl hub -Pbench verify  [-Dbench.messages=10000 -Dbench.connections=8 -Dbench.rate=1000]</pre>
 * {@code -Dbench.mode=e2e} runs {@link EndToEndBenchmark}, {@code -Dbench.mode=devices}
 * {@link DeviceQueryBenchmark}; {@code -Dbench.jfr=true} records the hub with JFR during the measured
 * rounds and prints {@link JfrBreakdown}; {@code -Dbench.camelBare=true} adds the camel-mllp bare
 * ({@link BareMllpServer}) as a second reference; {@code -Dbench.encryption=off|both} runs the
 * headline with the journal's encryption off too (default {@code on}, the product's default).
 */
public final class IntakeBenchmark {

    static final int MESSAGES = Integer.getInteger("bench.messages", 10_000);
    static final int BARE_MESSAGES = Integer.getInteger("bench.bareMessages", 2 * MESSAGES);
    static final int WARMUP = Integer.getInteger("bench.warmup", 4_000);
    /**
     * After {@link #WARMUP}, warm-up goes on in steps until the JIT has settled: a step in which the
     * process's compiler threads used at most {@link #JIT_SETTLED} of its CPU, or {@link #WARMUP_MAX_SECONDS}.
     * On 2 cores the hub's one C2 thread has a backlog of thousands of methods: 10,000 messages into a
     * run it still took 29-41 % of the hub's CPU and hot Jackson/HAPI methods ran C1 code (2026-11-29),
     * so a fixed short warm-up measured the JIT, not the hub a hospital runs for months.
     */
    static final int WARMUP_STEP = Integer.getInteger("bench.warmupStep", 3_000);
    static final double JIT_SETTLED = Double.parseDouble(System.getProperty("bench.jitSettled", "0.05"));
    static final int WARMUP_MAX_SECONDS = Integer.getInteger("bench.warmupMaxSeconds", 900);
    static final int CONNECTIONS = Integer.getInteger("bench.connections", 8);
    static final int ROUNDS = Integer.getInteger("bench.rounds", 3);
    static final int INTAKE_ROUNDS = Integer.getInteger("bench.intakeRounds", 1);
    static final int RATE = Integer.getInteger("bench.rate", 1000);
    static final int RATE_SECONDS = Integer.getInteger("bench.rateSeconds", 15);
    static final int DRAIN_SECONDS = Integer.getInteger("bench.drainSeconds", 600);
    static final boolean JFR = Boolean.getBoolean("bench.jfr");
    static final boolean CAMEL_BARE = Boolean.getBoolean("bench.camelBare");
    static final AtomicLong SEQUENCE = new AtomicLong();
    static final String RUN = Long.toString(System.currentTimeMillis(), 36).toUpperCase();
    static final BenchMessages LOAD = new BenchMessages("B");
    /** The destinations a Mercy message owes (routes/mercy-or.yaml): billing, inventory, fhir-server. */
    static final int MERCY_DESTINATIONS = 3;
    /** The JVM options of every server JVM the benchmark starts: the product's heap bound, the JVM's default GC. */
    static final List<String> SERVER_JVM = List.of("-Xmx512m", "-Xms512m");

    public static void main(String[] args) throws Exception {
        String mode = System.getProperty("bench.mode", "");
        if ("devices".equals(mode)) {
            DeviceQueryBenchmark.run(); // the traceability query over 100,000 messages
            return;
        }
        if ("e2e".equals(mode)) {
            EndToEndBenchmark.run();
            return;
        }
        String encryption = System.getProperty("bench.encryption", "");
        if (encryption.isBlank()) {
            encryption = System.getenv().getOrDefault("BENCH_ENCRYPTION", "on");
        }
        System.out.printf("Supply Hub intake benchmark: %d rounds of %d hub / %d bare messages, %d MLLP connections,"
                        + " %d cores, journal encryption %s%n", ROUNDS, MESSAGES, BARE_MESSAGES, CONNECTIONS,
                Runtime.getRuntime().availableProcessors(), encryption);
        Bare bare = Bare.start(PlainBareServer.class, "plain bare");
        Bare camel = CAMEL_BARE ? Bare.start(BareMllpServer.class, "camel bare") : null;
        try {
            bare.warm();
            if (camel != null) {
                camel.warm();
            }
            List<Boolean> encryptions = switch (encryption) {
                case "off" -> List.of(false);
                case "both" -> List.of(false, true);
                default -> List.of(true);
            };
            for (boolean encrypted : Boolean.parseBoolean(System.getProperty("bench.headline", "true")) ? encryptions : List.<Boolean>of()) {
                headline(bare, camel, encrypted);
            }
            intakeOnly(bare);
        } finally {
            bare.stop();
            if (camel != null) {
                camel.stop();
            }
        }
    }

    /** The default configuration, alternating with the bare server(s); then the paced run and the heap. */
    static void headline(Bare bare, Bare camel, boolean encrypted) throws Exception {
        System.out.printf("%n== headline: hub default configuration (delivery on to the shipped file destinations,"
                + " PostgreSQL, encryption %s) vs plain bare ==%n", encrypted ? "on" : "off");
        try (Hub hub = Hub.start(true, encrypted, null)) {
            hub.warm();
            List<Round> bareRounds = new ArrayList<>();
            List<Round> camelRounds = new ArrayList<>();
            List<Round> hubRounds = new ArrayList<>();
            Path jfr = JFR ? Jfr.start(hub.process.pid(), "intake") : null;
            for (int r = 1; r <= ROUNDS; r++) {
                bareRounds.add(bare.round(r));
                if (camel != null) {
                    camelRounds.add(camel.round(r));
                }
                hubRounds.add(hub.round(r));
            }
            if (jfr != null) {
                Jfr.stopAndPrint(hub.process.pid(), jfr);
            }
            System.out.printf("%nmedians of %d rounds%n", ROUNDS);
            printMedians("plain bare", bareRounds);
            if (camel != null) {
                printMedians("camel bare", camelRounds);
            }
            printMedians("hub", hubRounds);
            ratios("hub / plain bare", hubRounds, bareRounds);
            if (camel != null) {
                ratios("hub / camel bare", hubRounds, camelRounds);
            }
            System.out.println("  (target: hub delivered / plain bare >= 0.5 in the default configuration)");

            Result paced = openLoop(hub.port, RATE, RATE_SECONDS, CONNECTIONS);
            hub.sent += paced.count();
            print("hub @ " + RATE + " msg/s offered", paced);
            System.out.printf("  ACK p99 at %d msg/s offered: %.1f ms (target <= 20 ms); taken %.0f msg/s of %d offered%n",
                    RATE, paced.percentile(99), paced.throughput(), RATE);
            long drain = hub.drain();
            System.out.printf("  outbox drained %.1f s after the paced run; %s%n", drain / 1000.0, hub.integrity());
            long heapMax = heap(hub.httpPort, "max");
            long heapUsed = heap(hub.httpPort, "used");
            System.out.printf("hub heap            used %d MB of max %d MB (-Xmx512m; target <= 512 MB)%n",
                    heapUsed >> 20, heapMax >> 20);
        }
    }

    /** The second line: the same hub with delivery off, against the plain bare. */
    static void intakeOnly(Bare bare) throws Exception {
        System.out.printf("%n== second line: hub intake only (hub.delivery.enabled=false), encryption on, vs plain bare ==%n");
        try (Hub hub = Hub.start(false, true, null)) {
            hub.warm();
            List<Round> bareRounds = new ArrayList<>();
            List<Round> hubRounds = new ArrayList<>();
            Path jfr = JFR ? Jfr.start(hub.process.pid(), "intake-only") : null;
            for (int r = 1; r <= INTAKE_ROUNDS; r++) {
                bareRounds.add(bare.round(r));
                hubRounds.add(hub.round(r));
            }
            if (jfr != null) {
                Jfr.stopAndPrint(hub.process.pid(), jfr);
            }
            if (INTAKE_ROUNDS > 1) {
                printMedians("plain bare", bareRounds);
                printMedians("hub intake only", hubRounds);
            }
            System.out.printf("ratio intake only / plain bare   taken %.2f (median of rounds)%n",
                    median(ratiosOf(hubRounds, bareRounds, Round::taken)));
            Result paced = openLoop(hub.port, RATE, RATE_SECONDS, CONNECTIONS);
            print("hub intake only @ " + RATE + " msg/s offered", paced);
            System.out.printf("  ACK p99 at %d msg/s offered, intake only: %.1f ms; taken %.0f msg/s of %d offered%n",
                    RATE, paced.percentile(99), paced.throughput(), RATE);
        }
    }

    // ---------------------------------------------------------------- rounds and their figures

    /** One measured round: what was taken, delivered, how fast the ACKs came, and the CPU it cost. */
    record Round(String name, int round, Result result, double delivered, Map<String, Double> cpuPerMessage) {
        double taken() {
            return result.throughput();
        }

        double cpuTotal() {
            return cpuPerMessage.values().stream().mapToDouble(Double::doubleValue).sum();
        }

        double cpu(String part) {
            return cpuPerMessage.getOrDefault(part, Double.NaN);
        }
    }

    static void printRound(Round r) {
        System.out.printf("round %d %-11s taken %6.0f msg/s  delivered %s  ACK p50 %6.2f  p95 %6.2f  p99 %6.2f ms  (%d msgs, %d not AA)%n",
                r.round(), r.name(), r.taken(), Double.isNaN(r.delivered()) ? "     -     " : String.format("%6.0f msg/s", r.delivered()),
                r.result().percentile(50), r.result().percentile(95), r.result().percentile(99), r.result().count(), r.result().failures());
        System.out.printf("        CPU  %s  (sum %.3f)%n", CpuTime.format(r.cpuPerMessage()), r.cpuTotal());
    }

    static void printMedians(String name, List<Round> rounds) {
        System.out.printf("%-16s taken %6.0f msg/s  delivered %s  ACK p50 %6.2f  p95 %6.2f  p99 %6.2f ms%n", name,
                median(rounds, Round::taken),
                Double.isNaN(rounds.get(0).delivered()) ? "     -     " : String.format("%6.0f msg/s", median(rounds, Round::delivered)),
                median(rounds, r -> r.result().percentile(50)), median(rounds, r -> r.result().percentile(95)),
                median(rounds, r -> r.result().percentile(99)));
        StringBuilder cpu = new StringBuilder();
        for (String part : rounds.get(0).cpuPerMessage().keySet()) {
            cpu.append(String.format("%s %.3f  ", part, median(rounds, r -> r.cpu(part))));
        }
        System.out.printf("%16s CPU  %sCPU ms per message  (sum %.3f)%n", "", cpu, median(rounds, Round::cpuTotal));
    }

    static void ratios(String name, List<Round> hub, List<Round> bare) {
        System.out.printf("ratio %-18s taken     %.2f (median of per-round ratios %s)  %.2f (ratio of medians)%n", name,
                median(ratiosOf(hub, bare, Round::taken)), fmt(ratiosOf(hub, bare, Round::taken)),
                median(hub, Round::taken) / median(bare, Round::taken));
        System.out.printf("ratio %-18s delivered %.2f (median of per-round ratios %s)  %.2f (ratio of medians; bare delivers what it takes)%n",
                name, median(ratiosOf(hub, bare, Round::delivered)), fmt(ratiosOf(hub, bare, Round::delivered)),
                median(hub, Round::delivered) / median(bare, Round::taken));
        System.out.printf("CPU per message    hub JVM %.3f ms vs %s JVM %.3f ms (%.1f ×); with PostgreSQL and the load generator"
                        + " %.3f vs %.3f ms (%.1f ×)%n", median(hub, r -> r.cpu("hub")), bare.get(0).name(),
                median(bare, r -> r.cpu(bare.get(0).name())), median(hub, r -> r.cpu("hub")) / median(bare, r -> r.cpu(bare.get(0).name())),
                median(hub, Round::cpuTotal), median(bare, Round::cpuTotal), median(hub, Round::cpuTotal) / median(bare, Round::cpuTotal));
    }

    /** Hub's figure over bare's taken msg/s, round by round (bare delivers nothing: what it takes is its limit). */
    static double[] ratiosOf(List<Round> hub, List<Round> bare, ToDoubleFunction<Round> figure) {
        double[] out = new double[Math.min(hub.size(), bare.size())];
        for (int i = 0; i < out.length; i++) {
            out[i] = figure.applyAsDouble(hub.get(i)) / bare.get(i).taken();
        }
        return out;
    }

    static String fmt(double[] values) {
        return Arrays.stream(values).mapToObj(v -> String.format("%.2f", v)).toList().toString();
    }

    static double median(List<Round> rounds, ToDoubleFunction<Round> figure) {
        return median(rounds.stream().mapToDouble(figure).toArray());
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    // ---------------------------------------------------------------- the servers

    /** A bare server in its own JVM. */
    static final class Bare {
        final String name;
        final Process process;
        final int port;

        private Bare(String name, Process process, int port) {
            this.name = name;
            this.process = process;
            this.port = port;
        }

        static Bare start(Class<?> main, String name) throws Exception {
            int port = TestInterfaces.freePort();
            List<String> jvm = new ArrayList<>(SERVER_JVM);
            jvm.addAll(List.of(main.getName(), String.valueOf(port)));
            Process p = startJvm(jvm, name.replace(' ', '-'));
            waitForPort(port, 60);
            return new Bare(name, p, port);
        }

        void warm() throws Exception {
            Result warm = closedLoop(port, BARE_MESSAGES, CONNECTIONS);
            System.out.printf("%-11s warm-up  %6.0f msg/s%n", name, warm.throughput());
            untilJitSettles(name, process.pid(), () -> closedLoop(port, WARMUP_STEP, CONNECTIONS));
        }

        Round round(int n) throws Exception {
            List<CpuTime.Part> parts = List.of(CpuTime.Part.of(name, process.pid()), CpuTime.load());
            Map<String, Double> before = CpuTime.snapshot(parts);
            Result result = closedLoop(port, BARE_MESSAGES, CONNECTIONS);
            Round round = new Round(name, n, result, Double.NaN,
                    CpuTime.perMessage(before, CpuTime.snapshot(parts), result.count()));
            printRound(round);
            return round;
        }

        void stop() throws InterruptedException {
            process.destroy();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** The hub in its own JVM on a fresh PostgreSQL schema, with the shipped interfaces and destinations. */
    static final class Hub implements AutoCloseable {
        final Process process;
        final Map<String, String> db;
        final TestInterfaces interfaces;
        final int port;
        final int httpPort;
        final boolean delivery;
        final String applicationName;
        final Connection watcher;
        /** The shipped destinations (files), not ones the caller put in their place. */
        boolean fileDestinations;
        List<CpuTime.Part> parts;
        /** Messages ACKed AA so far (every one owes a file per destination when delivery is on). */
        long sent;

        private Hub(Process process, Map<String, String> db, TestInterfaces interfaces, int httpPort, boolean delivery,
                    String applicationName) throws Exception {
            this.process = process;
            this.db = db;
            this.interfaces = interfaces;
            this.port = interfaces.ports.get("mercy-or");
            this.httpPort = httpPort;
            this.delivery = delivery;
            this.applicationName = applicationName;
            waitForPort(port, 600); // a Spring Boot start took over 4 minutes on the shared 2-core machine
            // the benchmark's own connection: not named as the hub's, so its backend's CPU is not counted as the hub's
            this.watcher = DriverManager.getConnection(jdbcUrl(db).replace(applicationName, "bench-watcher"),
                    TestDatabases.postgresUser(), TestDatabases.postgresPassword());
        }

        /**
         * Starts the hub. {@code destinations} (null: as shipped) rewrites the copy of the shipped
         * routes/destinations.yaml, e.g. for the end-to-end mode; the shipped ones write below a temp directory.
         */
        static Hub start(boolean delivery, boolean encrypted, java.util.function.UnaryOperator<String> destinations)
                throws Exception {
            Map<String, String> db = new HashMap<>(TestDatabases.postgresOwnKek());
            String applicationName = "bench-hub-" + RUN + "-" + SEQUENCE.incrementAndGet();
            db.put("spring.datasource.url", db.get("spring.datasource.url") + "&ApplicationName=" + applicationName);
            TestInterfaces interfaces = TestInterfaces.copyOfShipped();
            String shipped = Files.readString(interfaces.routesDir.resolve("destinations.yaml"));
            if (shipped.contains("value: data/out")) {
                throw new IllegalStateException("a shipped destination would write into the repository's data/out");
            }
            if (destinations != null) {
                Files.writeString(interfaces.routesDir.resolve("destinations.yaml"), destinations.apply(shipped));
            }
            int httpPort = TestInterfaces.freePort();
            Path kek = Files.createTempFile("bench-kek", "");
            byte[] key = new byte[32];
            new java.security.SecureRandom().nextBytes(key);
            Files.writeString(kek, java.util.Base64.getEncoder().encodeToString(key));
            List<String> args = new ArrayList<>(SERVER_JVM);
            String extra = System.getProperty("bench.hubJvmArgs", "");
            if (!extra.isBlank()) {
                args.addAll(List.of(extra.trim().split("\\s+")));
            }
            args.addAll(List.of("org.supplyhub.SupplyHubApplication", "--server.port=" + httpPort, "--logging.level.root=WARN",
                    "--hub.journal.encryption.enabled=" + encrypted, "--hub.journal.encryption.key=file:" + kek));
            if (!delivery) {
                args.add("--hub.delivery.enabled=false");
            }
            db.forEach((k, v) -> args.add("--" + k + "=" + v));
            interfaces.properties().forEach((k, v) -> args.add("--" + k + "=" + v));
            Process p = startJvm(args, "hub-" + (delivery ? "delivery" : "intake") + (encrypted ? "" : "-plain"));
            Hub hub = new Hub(p, db, interfaces, httpPort, delivery, applicationName);
            hub.fileDestinations = destinations == null;
            return hub;
        }

        void warm() throws Exception {
            Result warm = closedLoop(port, WARMUP, CONNECTIONS);
            sent += warm.count();
            long drain = drain();
            System.out.printf("hub warm-up        %6.0f msg/s  (%d messages; outbox drained %.1f s after)%n",
                    warm.throughput(), warm.count(), drain / 1000.0);
            untilJitSettles("hub", process.pid(), () -> {
                Result step = closedLoop(port, WARMUP_STEP, CONNECTIONS);
                sent += step.count();
                drain(); // delivery's code warms up too, and its CPU is in the step's
                return step;
            });
            vacuumAnalyze();
            // after traffic the pool holds its connections: their backends are the hub's share of PostgreSQL
            List<CpuTime.Part> all = new ArrayList<>();
            all.add(CpuTime.Part.of("hub", process.pid()));
            all.addAll(CpuTime.postgres(jdbcUrl(db), TestDatabases.postgresUser(), TestDatabases.postgresPassword(), applicationName));
            all.add(CpuTime.load());
            parts = all;
        }

        /** A closed-loop round; with delivery on it lasts until the outbox has drained. */
        Round round(int n) throws Exception {
            Map<String, Double> before = CpuTime.snapshot(parts);
            Map<String, Double> threadsBefore = CpuTime.threads(process.pid());
            long started = System.nanoTime();
            Result result = closedLoop(port, MESSAGES, CONNECTIONS);
            sent += result.count();
            long backlog = delivery ? pendingOrMinusOne() : 0;
            long drainMillis = drain();
            double delivered = delivery ? result.count() / ((System.nanoTime() - started) / 1e9) : Double.NaN;
            Round round = new Round(delivery ? "hub" : "hub intake", n, result, delivered,
                    CpuTime.perMessage(before, CpuTime.snapshot(parts), result.count()));
            printRound(round);
            System.out.printf("        hub threads  %s  CPU ms per message%n",
                    CpuTime.topThreads(threadsBefore, CpuTime.threads(process.pid()), result.count(), 10));
            if (delivery) {
                System.out.printf("        outbox: %d rows pending when intake ended, drained %.1f s later%s%n",
                        backlog, drainMillis / 1000.0, fileDestinations ? "; " + integrity() : "");
            }
            return round;
        }

        /**
         * What autovacuum would have done by now on a production server: statistics for the planner and
         * the outbox's dead row versions cleared. The local test server runs with autovacuum off, and
         * there plans cached while the tables were empty kept scanning them sequentially as they grew
         * (a claim went from 0.2 to 2.7 ms a message over a run: auto_explain, PgCostProbe).
         */
        void vacuumAnalyze() throws SQLException {
            try (ResultSet rs = watcher.createStatement().executeQuery("show autovacuum")) {
                rs.next();
                System.out.printf("hub database: autovacuum %s; vacuum analyze after the warm-up%n", rs.getString(1));
            }
            watcher.createStatement().execute("vacuum analyze");
        }

        long pendingOrMinusOne() {
            try {
                return pending();
            } catch (Exception e) {
                return -1;
            }
        }

        /** Outbox rows not delivered yet (PENDING: the status a row keeps until delivery settles it). */
        long pending() throws Exception {
            try (ResultSet rs = watcher.createStatement().executeQuery("select count(*) from outbox where status = 'PENDING'")) {
                rs.next();
                return rs.getLong(1);
            }
        }

        /**
         * Waits until the outbox has no pending row and, with the shipped file destinations, every
         * ACKed message's files are there (so a changed outbox schema or status cannot end a round
         * early: without the outbox query the files alone decide); returns how long it took, in ms.
         */
        long drain() throws Exception {
            long started = System.nanoTime();
            if (!delivery) {
                return 0;
            }
            long deadline = started + TimeUnit.SECONDS.toNanos(DRAIN_SECONDS);
            boolean outboxReadable = true;
            while (true) {
                if (outboxReadable) {
                    try {
                        if (pending() > 0) {
                            check(deadline);
                            Thread.sleep(100);
                            continue;
                        }
                    } catch (java.sql.SQLException e) {
                        outboxReadable = false;
                        System.out.println("        (outbox not readable: " + e.getMessage() + "; waiting for the files)");
                    }
                }
                if (!fileDestinations || files() >= sent * MERCY_DESTINATIONS) {
                    return (System.nanoTime() - started) / 1_000_000;
                }
                check(deadline);
                Thread.sleep(200);
            }
        }

        private static void check(long deadline) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the outbox did not drain in " + DRAIN_SECONDS + " s");
            }
        }

        /** Delivered files in the destination folders, temp files left out. */
        long files() throws IOException {
            return filesByFolder().values().stream().mapToLong(Long::longValue).sum();
        }

        Map<String, Long> filesByFolder() throws IOException {
            Map<String, Long> files = new LinkedHashMap<>();
            if (Files.isDirectory(interfaces.outDir)) {
                try (Stream<Path> dirs = Files.list(interfaces.outDir)) {
                    for (Path dir : dirs.filter(Files::isDirectory).sorted().toList()) {
                        try (Stream<Path> in = Files.list(dir)) {
                            files.put(dir.getFileName().toString(), in.filter(f -> !f.getFileName().toString().startsWith(".")).count());
                        }
                    }
                }
            }
            return files;
        }

        /**
         * Every message ACKed owes one file per destination: the files in each destination folder
         * against the messages sent. A file is named by its row's idempotency key, so a redelivery
         * rewrites it; rows delivered more than once show in the outbox's attempts, counted too.
         */
        String integrity() throws Exception {
            if (!delivery) {
                return "";
            }
            Map<String, Long> files = filesByFolder();
            long expected = sent * MERCY_DESTINATIONS;
            long total = files.values().stream().mapToLong(Long::longValue).sum();
            long lost = 0;
            long extra = 0;
            for (long count : files.values()) {
                lost += Math.max(0, sent - count);
                extra += Math.max(0, count - sent);
            }
            lost += (long) Math.max(0, MERCY_DESTINATIONS - files.size()) * sent;
            long retried;
            try (ResultSet rs = watcher.createStatement().executeQuery("select count(*) from outbox where attempts > 1")) {
                rs.next();
                retried = rs.getLong(1);
            } catch (Exception e) {
                retried = -1;
            }
            String verdict = lost == 0 && extra == 0 ? "0 lost, 0 duplicates" : lost + " lost, " + extra + " duplicates";
            return String.format("files %s = %d of %d (%d messages × %d destinations): %s; outbox rows sent more than once: %d",
                    files, total, expected, sent, MERCY_DESTINATIONS, verdict, retried);
        }

        @Override
        public void close() throws Exception {
            watcher.close();
            process.destroy();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** One warm-up step: messages sent (and, for the hub, delivered). */
    @FunctionalInterface
    interface Step {
        Result run() throws Exception;
    }

    /** Runs warm-up steps until the JIT has settled in {@code pid} (see {@link #WARMUP_STEP}); prints each step. */
    static void untilJitSettles(String name, long pid, Step step) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WARMUP_MAX_SECONDS);
        List<CpuTime.Part> process = List.of(CpuTime.Part.of(name, pid));
        for (int n = 1; ; n++) {
            Map<String, Double> before = CpuTime.threads(pid);
            Map<String, Double> processBefore = CpuTime.snapshot(process);
            Result r = step.run();
            Map<String, Double> after = CpuTime.threads(pid);
            // the process's CPU, not its threads' sum: a thread that ended (a bare connection's) takes its time with it
            double total = CpuTime.snapshot(process).get(name) - processBefore.get(name);
            double jit = 0;
            for (Map.Entry<String, Double> e : after.entrySet()) {
                if (e.getKey().contains("CompilerThre")) {
                    jit += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0.0));
                }
            }
            double share = total == 0 ? 0 : jit / total;
            System.out.printf("%-11s warm-up step %2d  %6.0f msg/s  CPU %.3f ms/msg, of it JIT compiler threads %.0f %%%n",
                    name, n, r.throughput(), total / Math.max(1, r.count()), 100 * share);
            if (share <= JIT_SETTLED || !CpuTime.available()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                System.out.printf("%-11s JIT still compiling after %d s (bench.warmupMaxSeconds): figures include it%n",
                        name, WARMUP_MAX_SECONDS);
                return;
            }
        }
    }

    static String jdbcUrl(Map<String, String> db) {
        return db.get("spring.datasource.url");
    }

    /** A JFR recording of the hub during the measured rounds, started and stopped with jcmd. */
    static final class Jfr {
        private Jfr() {
        }

        static Path start(long pid, String name) throws Exception {
            Path file = Path.of(System.getProperty("java.io.tmpdir"), "supplyhub-bench-" + name + "-" + RUN + ".jfr");
            jcmd(pid, "JFR.start", "name=bench", "settings=profile", "filename=" + file);
            return file;
        }

        static void stopAndPrint(long pid, Path file) throws Exception {
            jcmd(pid, "JFR.stop", "name=bench");
            System.out.println();
            System.out.println("hub JFR recording (profile settings; a JFR run's figures are not the headline): " + file);
            JfrBreakdown.print(file, System.out);
        }

        private static void jcmd(long pid, String... command) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
                    String.valueOf(pid)));
            cmd.addAll(List.of(command));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (p.waitFor() != 0) {
                throw new IllegalStateException("jcmd " + String.join(" ", command) + " failed: " + out);
            }
        }
    }

    // ---------------------------------------------------------------- the load generator

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
        // the messages are built before the clock starts: building them is not the servers' work
        String[][] messages = new String[connections][perConnection];
        for (String[] batch : messages) {
            for (int i = 0; i < perConnection; i++) {
                batch[i] = LOAD.next();
            }
        }
        long started = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            int offset = c * perConnection;
            String[] batch = messages[c];
            long phase = intervalNanos * c / connections;
            futures.add(pool.submit(() -> {
                try (MllpClient mllp = new MllpClient(port)) {
                    for (int i = 0; i < perConnection; i++) {
                        long due = intervalNanos == 0 ? System.nanoTime() : started + phase + i * intervalNanos;
                        long wait = due - System.nanoTime();
                        if (wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                        String ack = mllp.send(batch[i]);
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

    /**
     * The Mercy sample with a unique control id, transaction ids and implant serial, spread over 500
     * patient accounts. The serial must be unique: the implant safety check looks up every earlier
     * use of a serial, and one serial repeated in every message made that lookup return (and decrypt)
     * all earlier messages' rows — seconds a message after a few thousand, which no real feed does.
     */
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
}
