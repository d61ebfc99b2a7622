package org.supplyhub.delivery;

import org.supplyhub.support.Mllp;
import org.supplyhub.support.BenchMessages;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.io.File;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A measuring tool, not a test: the cost of file delivery alone in the default configuration
 * (every Mercy message owes three file destinations). It fills the outbox of a PostgreSQL journal
 * through one hub with delivery off, then starts a second hub with delivery on and every
 * destination paused, and for each round: resets the outbox to PENDING, resumes the destinations,
 * waits until nothing is pending, and prints rows/s and the CPU milliseconds per row of the hub
 * and of PostgreSQL (from /proc). Round 1 warms the JIT up; later rounds are the figures.
 * <pre>java -cp target/test-classes:target/classes:$(deps) org.supplyhub.delivery.DeliveryProbe [messages] [rounds] [jfr-file]</pre>
 */
public final class DeliveryProbe {

    private static final BenchMessages LOAD = new BenchMessages("P");
    private static final List<String> DESTINATIONS = List.of("mercy-billing", "mercy-inventory", "lakeside-billing",
            "lakeside-inventory", "fhir-server");

    private DeliveryProbe() {
    }

    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        String jfr = args.length > 2 && !args[2].equals("-") ? args[2] : null;
        int rate = args.length > 3 ? Integer.parseInt(args[3]) : 0; // paced rounds: intake alone, then with delivery
        int paced = rate * 15;
        Map<String, String> db = TestDatabases.postgresOwnKek();
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        Path kek = Files.createTempFile("probe-kek", "");
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        Files.writeString(kek, Base64.getEncoder().encodeToString(key));
        int port = interfaces.ports.get("mercy-or");

        Process intake = startHub(db, interfaces, kek, false, null, "intake");
        try {
            waitForPort(port, 600);
            long t0 = System.nanoTime();
            fill(port, messages, 8);
            System.out.printf("filled %d messages in %.1f s%n", messages, (System.nanoTime() - t0) / 1e9);
            for (int round = 1; rate > 0 && round <= rounds; round++) {
                Map<String, Double> before = snapshot(intake.pid());
                long w0 = System.nanoTime();
                fill(port, paced, 8, rate);
                Map<String, Double> after = snapshot(intake.pid());
                System.out.printf("paced intake alone %d: %d messages at %d msg/s offered (%.1f s): CPU ms per message hub %.3f,"
                                + " PostgreSQL %.3f%n", round, paced, rate, (System.nanoTime() - w0) / 1e9,
                        (after.get("hub") - before.get("hub")) / paced, (after.get("pg") - before.get("pg")) / paced);
            }
        } finally {
            intake.destroy();
            intake.waitFor(30, TimeUnit.SECONDS);
        }
        try (Connection c = connect(db)) {
            for (String d : DESTINATIONS) {
                sql(c, "insert into destination_state (destination, paused, changed_by, changed_at) values ('" + d
                        + "', true, 'probe', now())");
            }
        }
        Process hub = startHub(db, interfaces, kek, true, null, "delivery");
        try {
            waitForPort(port, 600);
            Thread.sleep(3000);
            for (int round = 1; round <= rounds; round++) {
                try (Connection c = connect(db)) {
                    sql(c, "update outbox set status = 'PENDING', attempts = 0, delivered_at = null, lease_until = null,"
                            + " next_attempt_at = now() - interval '1 second', last_error = null");
                    sql(c, "delete from delivery_attempt");
                    sql(c, "vacuum analyze outbox");
                    sql(c, "vacuum analyze delivery_attempt");
                    clear(interfaces.outDir);
                    int rows = count(c, "select count(*) from outbox");
                    Thread.sleep(1500);
                    boolean record = jfr != null && round == rounds;
                    if (record) {
                        jcmd(hub.pid(), "JFR.start", "name=probe", "settings=profile");
                    }
                    Map<String, Double> before = snapshot(hub.pid());
                    long wall0 = System.nanoTime();
                    sql(c, "update destination_state set paused = false");
                    while (count(c, "select count(*) from outbox where status = 'PENDING'") > 0) {
                        Thread.sleep(100);
                        if (System.nanoTime() - wall0 > TimeUnit.MINUTES.toNanos(10)) {
                            throw new IllegalStateException("not drained in 10 minutes");
                        }
                    }
                    Map<String, Double> after = snapshot(hub.pid());
                    double wall = (System.nanoTime() - wall0) / 1e9;
                    sql(c, "update destination_state set paused = true");
                    if (record) {
                        jcmd(hub.pid(), "JFR.stop", "name=probe", "filename=" + jfr);
                    }
                    double span;
                    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                            "select extract(epoch from (max(o.delivered_at) - min(a.started_at)))"
                                    + " from outbox o, (select min(started_at) started_at from delivery_attempt) a")) {
                        rs.next();
                        span = rs.getDouble(1);
                    }
                    int dead = count(c, "select count(*) from outbox where status <> 'DELIVERED'");
                    System.out.printf("round %d: %d rows in %.2f s (first attempt → last delivered; %.2f s wall) = %.0f rows/s;"
                                    + " CPU ms per row: hub %.3f, PostgreSQL %.3f; not delivered %d%s%n",
                            round, rows, span, wall, rows / span, (after.get("hub") - before.get("hub")) / rows,
                            Math.max(0, after.get("pg") - before.get("pg")) / rows, dead, round == 1 ? " (warm-up)" : "");
                }
            }
            try (Connection c = connect(db)) {
                sql(c, "update outbox set status = 'DELIVERED' where status = 'PENDING'");
                sql(c, "update destination_state set paused = false");
                Thread.sleep(2000);
                for (int round = 1; rate > 0 && round <= rounds; round++) {
                    Map<String, Double> before = snapshot(hub.pid());
                    long w0 = System.nanoTime();
                    fill(port, paced, 8, rate);
                    double sent = (System.nanoTime() - w0) / 1e9;
                    while (count(c, "select count(*) from outbox where status = 'PENDING'") > 0) {
                        Thread.sleep(50);
                    }
                    Map<String, Double> after = snapshot(hub.pid());
                    System.out.printf("paced with delivery %d: %d messages at %d msg/s offered (sent in %.1f s, drained %.1f s later):"
                                    + " CPU ms per message (intake + 3 deliveries) hub %.3f, PostgreSQL %.3f%n", round, paced, rate,
                            sent, (System.nanoTime() - w0) / 1e9 - sent, (after.get("hub") - before.get("hub")) / paced,
                            (after.get("pg") - before.get("pg")) / paced);
                }
            }
        } finally {
            hub.destroy();
            hub.waitFor(30, TimeUnit.SECONDS);
        }
    }

    private static void jcmd(long pid, String... command) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/jcmd", String.valueOf(pid)));
        cmd.addAll(List.of(command));
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                .waitFor(60, TimeUnit.SECONDS);
    }

    private static void clear(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                if (!p.equals(dir)) {
                    Files.delete(p);
                }
            }
        }
    }

    private static Connection connect(Map<String, String> db) throws Exception {
        Connection c = DriverManager.getConnection(db.get("spring.datasource.url"), db.get("spring.datasource.username"),
                db.get("spring.datasource.password"));
        c.setAutoCommit(true);
        return c;
    }

    private static void sql(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static int count(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void fill(int port, int messages, int connections) throws Exception {
        for (int attempt = 1; ; attempt++) { // the first message of a cold hub on a busy machine can take long
            try (Mllp mllp = new Mllp(port)) {
                if (mllp.send(LOAD.next(), StandardCharsets.UTF_8) != null) {
                    break;
                }
            } catch (java.net.SocketTimeoutException e) {
                if (attempt == 10) {
                    throw e;
                }
            }
        }
        fill(port, messages, connections, 0);
    }

    /** Closed loop, or paced at {@code rate} msg/s over all connections when rate > 0. */
    private static void fill(int port, int messages, int connections, int rate) throws Exception {
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(connections);
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            int share = messages / connections + (c < messages % connections ? 1 : 0);
            long interval = rate == 0 ? 0 : 1_000_000_000L * connections / rate;
            long phase = interval * c / connections;
            futures.add(pool.submit(() -> {
                try (Mllp mllp = new Mllp(port)) {
                    for (int i = 0; i < share; i++) {
                        long wait = started + phase + i * interval - System.nanoTime();
                        if (interval > 0 && wait > 0) {
                            TimeUnit.NANOSECONDS.sleep(wait);
                        }
                        String ack = mllp.send(LOAD.next(), StandardCharsets.UTF_8);
                        if (ack == null || !ack.contains("\rMSA|AA|")) {
                            throw new IllegalStateException("not AA");
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        pool.shutdown();
    }

    private static Process startHub(Map<String, String> db, TestInterfaces interfaces, Path kek, boolean delivery,
                                    String jvmExtra, String name) throws IOException {
        List<String> command = new ArrayList<>(List.of(System.getProperty("java.home") + "/bin/java", "-cp",
                System.getProperty("java.class.path"), "-Xmx512m", "-Xms512m", "-XX:+UseParallelGC"));
        if (jvmExtra != null) {
            command.add(jvmExtra);
        }
        command.addAll(List.of("org.supplyhub.SupplyHubApplication", "--server.port=" + TestInterfaces.freePort(),
                "--logging.level.root=WARN", "--hub.delivery.enabled=" + delivery,
                "--hub.journal.encryption.key=file:" + kek));
        db.forEach((k, v) -> command.add("--" + k + "=" + v));
        interfaces.properties().forEach((k, v) -> command.add("--" + k + "=" + v));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(new File(System.getProperty("java.io.tmpdir"), "delivery-probe-" + name + ".log"));
        pb.directory(TestInterfaces.projectRoot().toFile());
        Process p = pb.start();
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroy));
        return p;
    }

    private static void waitForPort(int port, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            try (Socket ignored = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("nothing listening on " + port);
    }

    /** CPU ms so far of the hub and of all PostgreSQL processes (Linux /proc, 10 ms ticks). */
    private static Map<String, Double> snapshot(long hub) throws IOException {
        double pg = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (name.chars().allMatch(Character::isDigit)) {
                    try {
                        if ("postgres".equals(Files.readString(p.resolve("comm")).trim())) {
                            pg += ticks(Long.parseLong(name));
                        }
                    } catch (IOException gone) {
                        // ended in between
                    }
                }
            }
        }
        return Map.of("hub", ticks(hub) * 10.0, "pg", pg * 10.0);
    }

    private static long ticks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }
}
