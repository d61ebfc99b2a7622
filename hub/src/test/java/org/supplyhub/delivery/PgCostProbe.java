package org.supplyhub.delivery;

import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.supplyhub.SupplyHubApplication;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.support.BenchMessages;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.TestKeys;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * A measuring tool, not a test: what the hub's own PostgreSQL backends spend per message in the default
 * configuration (Mercy messages: 3 file destinations, encryption on). One in-process hub on a database of
 * its own ({@code pgprobe}, so pg_stat_statements can be told apart from other users of the server)
 * journals messages paced at a rate, first with every destination paused (intake alone), then with
 * delivery on (intake + delivery, drained to empty). For each phase it prints the CPU of the hub's
 * backends (pg_stat_activity by application name → /proc/pid/stat), and from pg_stat_statements the
 * statements, rows and WAL bytes per message, with the statements that cost most.
 * Needs pg_stat_statements loaded (shared_preload_libraries) and created in database postgres.
 * <pre>./mvnw -o -q -pl hub test -Dtest=PgCostProbe -Dpgprobe=messages,rounds,rate</pre>
 * For paired before/after runs of a migration: {@code -Dpgprobe.target=15} migrates only up to V15
 * (Flyway's target), and {@code -Dpgprobe.sql="alter table …; …"} runs statements on the hub's schema
 * once it has started (a variant to measure before writing it as a migration).
 */
public class PgCostProbe {

    private static final String RUN = Long.toString(System.currentTimeMillis(), 36).toUpperCase();
    private static final BenchMessages LOAD = new BenchMessages("P");
    private static final String APP = "pgprobe-" + RUN;
    private static final String DB = "pgprobe";
    private static final List<String> DESTINATIONS = List.of("mercy-billing", "mercy-inventory", "lakeside-billing",
            "lakeside-inventory", "fhir-server");
    /** The probe's own statements carry this, and are left out of the figures. */
    private static final String MARK = "/*probe*/ ";
    /** Statements that delivery runs (claims, settles, the pause check, old outputs, the attempt journal's key checks). */
    private static final java.util.regex.Pattern DELIVERY = java.util.regex.Pattern.compile(
            "^with (w|c|s) as|update outbox|insert into delivery_attempt|destination_state|message_output|\\.\"outbox\" x");

    /** Run through surefire: {@code ./mvnw -o -q -pl hub test -Dtest=PgCostProbe -Dpgprobe=1000,3,200}. */
    @org.junit.jupiter.api.Test
    @org.junit.jupiter.api.condition.EnabledIfSystemProperty(named = "pgprobe", matches = ".+")
    void measure() throws Exception {
        main(System.getProperty("pgprobe").split(","));
    }

    record Snapshot(Map<Integer, Long> ticks, Map<String, double[]> statements) { }

    /** {@code fpiPerMsg}: full-page images among the WAL (the first change of a page after a checkpoint). */
    record Phase(double cpuUsPerMsg, double callsPerMsg, double rowsPerMsg, double walBytesPerMsg, double execUsPerMsg,
            double fpiPerMsg) {
        @Override
        public String toString() {
            return String.format("PG CPU %.0f µs/msg, %.1f statements/msg, %.1f rows/msg, %.0f WAL bytes/msg (%.2f FPI),"
                    + " %.0f µs exec/msg", cpuUsPerMsg, callsPerMsg, rowsPerMsg, walBytesPerMsg, fpiPerMsg, execUsPerMsg);
        }
    }

    public static void main(String[] args) throws Exception {
        int messages = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        int rate = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        String base = TestDatabases.postgresBaseUrl();
        String server = base.substring(0, base.lastIndexOf('/') + 1);
        try (Connection admin = DriverManager.getConnection(server + "postgres", TestDatabases.postgresUser(),
                TestDatabases.postgresPassword()); Statement s = admin.createStatement()) {
            try (ResultSet rs = s.executeQuery("select 1 from pg_database where datname = '" + DB + "'")) {
                if (!rs.next()) {
                    s.execute("create database " + DB);
                }
            }
        }
        String schema = "p_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String url = server + DB + "?currentSchema=" + schema + "&ApplicationName=" + APP;
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        Map<String, String> props = new HashMap<>(interfaces.properties());
        props.putAll(Map.of("spring.datasource.url", url, "spring.datasource.username", TestDatabases.postgresUser(),
                "spring.datasource.password", TestDatabases.postgresPassword(), "spring.flyway.schemas", schema,
                "spring.flyway.default-schema", schema, "hub.audit.signing-key", "file:" + TestKeys.signingKey(),
                "hub.journal.encryption.key", "file:" + TestKeys.kek(), "server.port", "0",
                "spring.jmx.enabled", "false", "logging.level.root", "WARN"));
        if (System.getProperty("pgprobe.target") != null) {
            props.put("spring.flyway.target", System.getProperty("pgprobe.target"));
        }
        Connection monitor = DriverManager.getConnection(server + "postgres", TestDatabases.postgresUser(),
                TestDatabases.postgresPassword());
        Connection probe = DriverManager.getConnection(server + DB + "?currentSchema=" + schema
                + "&ApplicationName=pgprobe-monitor", TestDatabases.postgresUser(), TestDatabases.postgresPassword());
        List<Phase> intakeOnly = new ArrayList<>();
        List<Phase> both = new ArrayList<>();
        try (ConfigurableApplicationContext hub = new SpringApplicationBuilder(SupplyHubApplication.class)
                .run(props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new))) {
            IntakeService intake = hub.getBean(IntakeService.class);
            InterfaceDefinition mercy = hub.getBean(RunningConfig.class).get("mercy-or");
            DestinationPauses pauses = hub.getBean(DestinationPauses.class);
            String variant = System.getProperty("pgprobe.sql");
            if (variant != null && !variant.isBlank()) {
                for (String statement : variant.split(";")) {
                    if (!statement.isBlank()) {
                        sql(probe, MARK + statement);
                    }
                }
                System.out.println("variant: " + variant);
            }
            System.out.println("schema " + schema + ", migrated to " + count(probe, MARK
                    + "select max(cast(version as integer)) from flyway_schema_history where success"));
            fill(intake, mercy, 300, 8, 0); // warm-up, delivered
            drain(probe);
            for (int round = 1; round <= rounds; round++) {
                DESTINATIONS.forEach(d -> pauses.set(d, true, "probe"));
                Thread.sleep(500);
                Snapshot before = snapshot(monitor);
                fill(intake, mercy, messages, 8, rate);
                Snapshot after = snapshot(monitor);
                Phase p = phase(before, after, messages, false);
                intakeOnly.add(p);
                System.out.printf("round %d, intake alone:     %s%n", round, p);
                sql(probe, MARK + "update outbox set status = 'DELIVERED', delivered_at = now() where status = 'PENDING'");

                DESTINATIONS.forEach(d -> pauses.set(d, false, "probe"));
                Thread.sleep(500);
                before = snapshot(monitor);
                fill(intake, mercy, messages, 8, rate);
                drain(probe);
                after = snapshot(monitor);
                p = phase(before, after, messages, true);
                both.add(p);
                System.out.printf("round %d, intake + delivery: %s%n", round, p);
                int attempts = count(probe, MARK + "select count(*) from delivery_attempt where outcome <> 'DELIVERED'");
                if (attempts > 0) {
                    System.out.printf("  (%d attempts not DELIVERED)%n", attempts);
                }
            }
            usageSizes(hub.getBean(org.supplyhub.admin.MessageQueries.class), probe);
        } finally {
            monitor.close();
            probe.close();
        }
        System.out.println("median intake alone:     " + median(intakeOnly));
        System.out.println("median intake + delivery: " + median(both));
    }

    /**
     * What the journal stores as usage per message, against what the clear JSON would take deflated
     * (the size a compress-before-seal would leave; the row stays in line below about 2 kB).
     */
    private static void usageSizes(org.supplyhub.admin.MessageQueries messages, Connection probe) throws Exception {
        long stored = 0;
        long clear = 0;
        long deflated = 0;
        int n = 0;
        try (Statement s = probe.createStatement(); ResultSet rs = s.executeQuery(MARK
                + "select id, octet_length(usage_json), pg_column_size(m.*) from message m where usage_json is not null"
                + " order by id desc limit 200")) {
            while (rs.next()) {
                String json = messages.usage(rs.getLong(1)).orElseThrow();
                byte[] bytes = json.getBytes(StandardCharsets.UTF_8);
                java.util.zip.Deflater d = new java.util.zip.Deflater(java.util.zip.Deflater.BEST_SPEED);
                d.setInput(bytes);
                d.finish();
                byte[] out = new byte[bytes.length + 64];
                int len = 0;
                while (!d.finished()) {
                    len += d.deflate(out, len, out.length - len);
                }
                d.end();
                stored += rs.getLong(2);
                clear += bytes.length;
                deflated += len;
                n++;
            }
        }
        if (n > 0) {
            System.out.printf("usage per message: %d bytes stored (sealed, base64), %d clear, %d deflated (level 1)%n",
                    stored / n, clear / n, deflated / n);
        }
    }

    private static Phase median(List<Phase> phases) {
        return new Phase(med(phases.stream().mapToDouble(Phase::cpuUsPerMsg).toArray()),
                med(phases.stream().mapToDouble(Phase::callsPerMsg).toArray()),
                med(phases.stream().mapToDouble(Phase::rowsPerMsg).toArray()),
                med(phases.stream().mapToDouble(Phase::walBytesPerMsg).toArray()),
                med(phases.stream().mapToDouble(Phase::execUsPerMsg).toArray()),
                med(phases.stream().mapToDouble(Phase::fpiPerMsg).toArray()));
    }

    private static double med(double[] v) {
        java.util.Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static Phase phase(Snapshot before, Snapshot after, int messages, boolean top) {
        long ticks = 0;
        for (Map.Entry<Integer, Long> e : after.ticks().entrySet()) {
            ticks += e.getValue() - before.ticks().getOrDefault(e.getKey(), 0L);
        }
        double[] sum = new double[5];
        List<Map.Entry<String, double[]>> deltas = new ArrayList<>();
        for (Map.Entry<String, double[]> e : after.statements().entrySet()) {
            double[] b = before.statements().getOrDefault(e.getKey(), new double[5]);
            double[] d = new double[5];
            for (int i = 0; i < 5; i++) {
                d[i] = e.getValue()[i] - b[i];
                sum[i] += d[i];
            }
            if (d[0] > 0) {
                deltas.add(Map.entry(e.getKey(), d));
            }
        }
        double[] delivery = new double[5];
        for (Map.Entry<String, double[]> e : deltas) {
            if (DELIVERY.matcher(e.getKey()).find()) {
                for (int i = 0; i < 5; i++) {
                    delivery[i] += e.getValue()[i];
                }
            }
        }
        System.out.printf("  delivery's statements: %.2f calls, %.2f rows, %.0f WAL bytes, %.0f µs exec per message%n",
                delivery[0] / messages, delivery[1] / messages, delivery[2] / messages, delivery[3] * 1000 / messages);
        if (top) {
            deltas.sort((x, y) -> Double.compare(y.getValue()[3], x.getValue()[3]));
            for (Map.Entry<String, double[]> e : deltas.subList(0, Math.min(22, deltas.size()))) {
                double[] d = e.getValue();
                String q = e.getKey().replaceAll("\\s+", " ");
                System.out.printf("    %6.2f calls %6.2f rows %6.0f WAL B %6.0f µs exec /msg  %s%n", d[0] / messages,
                        d[1] / messages, d[2] / messages, d[3] * 1000 / messages, q.substring(0, Math.min(150, q.length())));
            }
        }
        double hz = 100.0; // USER_HZ
        return new Phase(ticks / hz * 1e6 / messages, sum[0] / messages, sum[1] / messages, sum[2] / messages,
                sum[3] * 1000 / messages, sum[4] / messages);
    }

    /** CPU ticks of the hub's backends, and pg_stat_statements of the probe database (calls, rows, WAL, ms). */
    private static Snapshot snapshot(Connection monitor) throws Exception {
        Map<Integer, Long> ticks = new HashMap<>();
        try (Statement s = monitor.createStatement(); ResultSet rs = s.executeQuery(
                MARK + "select pid from pg_stat_activity where application_name = '" + APP + "'")) {
            while (rs.next()) {
                ticks.put(rs.getInt(1), ticks(rs.getInt(1)));
            }
        }
        Map<String, double[]> statements = new HashMap<>();
        try (Statement s = monitor.createStatement(); ResultSet rs = s.executeQuery(MARK
                + "select query, sum(calls), sum(rows), sum(wal_bytes), sum(total_exec_time), sum(wal_fpi) from pg_stat_statements"
                + " where dbid = (select oid from pg_database where datname = '" + DB + "')"
                + " and query not like '%/*probe*/%' group by query")) {
            while (rs.next()) {
                statements.put(rs.getString(1), new double[] {rs.getDouble(2), rs.getDouble(3), rs.getDouble(4),
                        rs.getDouble(5), rs.getDouble(6)});
            }
        }
        return new Snapshot(ticks, statements);
    }

    private static long ticks(int pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (java.io.IOException | RuntimeException e) {
            return 0;
        }
    }

    private static void drain(Connection probe) throws Exception {
        long t0 = System.nanoTime();
        while (count(probe, MARK + "select count(*) from outbox where status = 'PENDING'") > 0) {
            Thread.sleep(50);
            if (System.nanoTime() - t0 > TimeUnit.MINUTES.toNanos(5)) {
                throw new IllegalStateException("not drained in 5 minutes");
            }
        }
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

    /** Closed loop, or paced at {@code rate} msg/s over all threads when rate > 0. */
    private static void fill(IntakeService intake, InterfaceDefinition iface, int messages, int threads, int rate)
            throws Exception {
        long started = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Future<?>> futures = new ArrayList<>();
        for (int c = 0; c < threads; c++) {
            int share = messages / threads + (c < messages % threads ? 1 : 0);
            long interval = rate == 0 ? 0 : 1_000_000_000L * threads / rate;
            long phase = interval * c / threads;
            futures.add(pool.submit(() -> {
                for (int i = 0; i < share; i++) {
                    long wait = started + phase + i * interval - System.nanoTime();
                    if (interval > 0 && wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    String ack = intake.receive(iface, LOAD.next().getBytes(StandardCharsets.UTF_8), null, "probe")
                            .ackCode();
                    if (!"AA".equals(ack)) {
                        throw new IllegalStateException("not AA: " + ack);
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
}
