package org.supplyhub.ops;

import org.supplyhub.support.TestInterfaces;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fault campaign: drives Mercy DFT^P03 load through HAProxy into a two-node hub
 * ({@link Stack}) that delivers to real receivers ({@link Receivers}, in this JVM), injects faults
 * at seeded random moments, lets the outbox drain, and proves from the receivers' own ledgers that
 * every AA'd message reached every receiver (lost = 0) and no charge line, stock movement or FHIR
 * resource was applied twice (duplicates = 0).
 * <pre>ops/faults [--quick] [--campaign NAME] [--seed N]</pre>
 * Campaigns: {@code kill-load}, {@code kill-drain}, {@code db-outage}, {@code receiver-outage},
 * {@code reload-restart}. Exit status 0 only if every campaign run has lost 0, duplicates 0 at
 * every receiver, no journal duplicate and no message left unanswered.
 */
public final class FaultCampaign {

    /** What a run does; quick = one fault of each kind, 10 s outages. */
    record Settings(boolean quick, long seed, int repeats, Duration dbOutage, Duration receiverOutage,
                    Duration slowFor, int connections, double perSecond, Duration drainBound) {
        static Settings of(boolean quick, long seed) {
            return quick
                    ? new Settings(true, seed, 1, Duration.ofSeconds(10), Duration.ofSeconds(10), Duration.ofSeconds(5),
                    4, 15, Duration.ofMinutes(4))
                    : new Settings(false, seed, 3, Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(20),
                    4, 15, Duration.ofMinutes(8));
        }
    }

    static final List<String> CAMPAIGNS = List.of("kill-load", "kill-drain", "db-outage", "receiver-outage",
            "reload-restart");
    private static final Map<String, String> DESTINATIONS = Map.of(
            "billing", "mercy-billing", "inventory", "mercy-inventory", "fhir", "fhir-server");

    record Result(String campaign, String tag, Duration took, long offered, long acked, long unanswered,
                  long anomalies, long journaled, long journalDuplicates, Map<String, Long> delivered,
                  Map<String, Long> dead, Map<String, Ledger.Tally> ledger, Map<String, Long> lostAt, long lost,
                  long resends, long resend207) {
        long duplicates() {
            return ledger.values().stream().mapToLong(Ledger.Tally::duplicates).sum();
        }

        boolean passed() {
            return lost == 0 && duplicates() == 0 && journalDuplicates == 0 && unanswered == 0;
        }
    }

    private final Settings settings;
    private final Stack stack;
    private final Receivers receivers;
    private final Random random;
    private final String runId;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();
    /** receiver → effects one message leaves there (measured with a probe message). */
    private final Map<String, Integer> expected = new LinkedHashMap<>();

    FaultCampaign(Settings settings, Stack stack, Receivers receivers) {
        this.settings = settings;
        this.stack = stack;
        this.receivers = receivers;
        this.random = new Random(settings.seed());
        this.runId = Long.toString(Math.abs(settings.seed()) % 46656, 36); // a campaign's ids stay unique per seed
    }

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        List<String> only = new ArrayList<>();
        long seed = System.nanoTime() % 1_000_000;
        Path jar = null;
        Path runDir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--campaign" -> only.add(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--jar" -> jar = Path.of(args[++i]);
                case "--run-dir" -> runDir = Path.of(args[++i]);
                default -> {
                    System.err.println("usage: FaultCampaign [--quick] [--campaign NAME]… [--seed N] [--jar HUB_JAR] [--run-dir DIR]"
                            + "\n  campaigns: " + CAMPAIGNS);
                    System.exit(2);
                }
            }
        }
        for (String c : only) {
            if (!CAMPAIGNS.contains(c)) {
                System.err.println("unknown campaign " + c + "; known: " + CAMPAIGNS);
                System.exit(2);
            }
        }
        Settings settings = Settings.of(quick, seed);
        System.out.printf("fault campaign: %s run, seed %d (repeat with --seed %d)%n", quick ? "quick" : "full", seed, seed);
        Path root = TestInterfaces.projectRoot();
        if (jar == null) {
            try (var files = Files.list(root.resolve("hub/target"))) {
                jar = files.filter(p -> p.getFileName().toString().matches("hub-.*\\.jar")).findFirst()
                        .orElseThrow(() -> new IllegalStateException("no hub/target/hub-*.jar: ./mvnw -pl hub package -DskipTests"));
            }
        }
        if (runDir == null) {
            runDir = Files.createTempDirectory("faults-");
        }
        ReceiverPorts ports = new ReceiverPorts(TestInterfaces.freePort(), TestInterfaces.freePort(), TestInterfaces.freePort());
        Instant started = Instant.now();
        List<Result> results = new ArrayList<>();
        try (Receivers receivers = Receivers.start(ports);
             Stack stack = Stack.start(StackOptions.builder().runDir(runDir).nodes(2).keycloak(false).hubJar(jar)
                     // C1 only: a node (re)starts in about half the CPU, which a campaign of restarts on two
                     // shared cores needs more than peak throughput (the load is 15 msg/s)
                     .hubEnv("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1")
                     .receivers(ports).build())) {
            FaultCampaign campaign = new FaultCampaign(settings, stack, receivers);
            campaign.calibrate();
            for (String name : only.isEmpty() ? CAMPAIGNS : only) {
                results.add(campaign.run(name));
                print(List.of(results.get(results.size() - 1)));
            }
        }
        System.out.printf("%n== all campaigns (%s run, seed %d, %d s) ==%n", quick ? "quick" : "full", seed,
                Duration.between(started, Instant.now()).toSeconds());
        print(results);
        boolean passed = results.stream().allMatch(Result::passed);
        System.out.println(passed ? "PASSED: lost 0 and duplicates 0 at every receiver in every campaign"
                : "FAILED: see the rows above");
        System.exit(passed ? 0 : 1);
    }

    // ------------------------------------------------------------------ setup

    /** One probe message: how many effects one message leaves at each receiver. */
    void calibrate() throws Exception {
        String tag = "p" + runId;
        long probes;
        try (LoadSender probe = sender(tag, 0, 1, 1)) {
            probe.start();
            Thread.sleep(500);
            probe.stopOffering();
            if (!probe.awaitSettled(Duration.ofSeconds(120)) || probe.acked.isEmpty()) {
                throw new IllegalStateException("the probe message was not answered AA: " + probe.anomalies);
            }
            probes = probe.acked.size();
        }
        awaitDrained(tag, Duration.ofSeconds(60));
        for (Receivers.Receiver r : receivers.all()) {
            expected.put(r.ledger().name(), (int) (r.ledger().tally(forTag(tag)).applied() / probes));
        }
        System.out.println("one message leaves, per receiver: " + expected);
        if (expected.values().stream().anyMatch(n -> n == 0)) {
            throw new IllegalStateException("a receiver got nothing from the probe: " + expected);
        }
    }

    // ------------------------------------------------------------------ campaigns

    Result run(String name) throws Exception {
        String tag = Pattern.compile("(^|-)(.)[^-]*").matcher(name).replaceAll("$2") + runId; // kill-load → kl…
        System.out.printf("%n== campaign %s (ids FC%s-n) ==%n", name, tag);
        receivers.all().forEach(r -> r.ledger().resetCounters());
        Instant start = Instant.now();
        List<LoadSender> senders = new ArrayList<>();
        switch (name) {
            case "kill-load" -> killMidLoad(tag, senders);
            case "kill-drain" -> killMidDrain(tag, senders);
            case "db-outage" -> databaseOutage(tag, senders);
            case "receiver-outage" -> receiverOutages(tag, senders);
            case "reload-restart" -> restartDuringReload(tag, senders);
            default -> throw new IllegalArgumentException(name);
        }
        for (LoadSender s : senders) {
            s.stopOffering();
        }
        for (LoadSender s : senders) {
            if (!s.awaitSettled(Duration.ofMinutes(3))) {
                log("some messages still unanswered after 3 min");
            }
            s.close();
        }
        receivers.all().forEach(r -> {
            r.up();
            r.normal();
        });
        stack.database().restore();
        boolean drained = awaitDrained(tag, settings.drainBound());
        log(drained ? "outbox drained" : "outbox NOT drained within " + settings.drainBound());
        return tally(name, tag, Duration.between(start, Instant.now()), senders);
    }

    /** (a) kill -9 of a node while messages arrive, then start it again. */
    private void killMidLoad(String tag, List<LoadSender> senders) throws Exception {
        LoadSender load = started(tag, 0, senders);
        for (int i = 0; i < settings.repeats(); i++) {
            sleepRandom(3, 10);
            int node = random.nextInt(stack.nodes().size());
            log("kill -9 node %d (pid %d), %d offered so far", node, stack.node(node).pid(), load.offered.get());
            stack.node(node).kill9();
            sleepRandom(2, 5);
            restart(node);
        }
        Thread.sleep(5000);
    }

    /** (b) a backlog (slow receivers), load stopped, kill -9 of a node while it drains. */
    private void killMidDrain(String tag, List<LoadSender> senders) throws Exception {
        for (int i = 0; i < settings.repeats(); i++) {
            // 1 s a send: 8 senders per destination take 8 rows/s of the 15 offered, so a backlog builds
            receivers.all().forEach(r -> r.slow(Duration.ofSeconds(1)));
            LoadSender load = started(tag, i * 1_000_000L, senders);
            Thread.sleep(settings.quick() ? 12_000 : 20_000);
            load.stopOffering();
            load.awaitSettled(Duration.ofMinutes(2));
            receivers.all().forEach(r -> r.slow(Duration.ofMillis(250))); // drains at ~32 rows/s per destination
            Thread.sleep(500 + random.nextInt(2500));
            int node = random.nextInt(stack.nodes().size());
            log("kill -9 node %d mid-drain, backlog %d rows", node, pending(tag));
            stack.node(node).kill9();
            sleepRandom(2, 5);
            restart(node);
            receivers.all().forEach(Receivers.Receiver::normal);
        }
    }

    /** (c) PostgreSQL unreachable through the proxy, under load. */
    private void databaseOutage(String tag, List<LoadSender> senders) throws Exception {
        started(tag, 0, senders);
        for (int i = 0; i < settings.repeats(); i++) {
            sleepRandom(3, 10);
            log("database cut for %d s", settings.dbOutage().toSeconds());
            stack.database().cut();
            Thread.sleep(settings.dbOutage().toMillis());
            stack.database().restore();
            log("database back");
        }
        Thread.sleep(10_000);
    }

    /**
     * (d) each receiver down, then slow: first slower than the stack's destination timeout (5 s, in
     * ops/routes/destinations.yaml), so the hub resends what the receiver already applied, then just slow.
     */
    private void receiverOutages(String tag, List<LoadSender> senders) throws Exception {
        started(tag, 0, senders);
        for (int i = 0; i < settings.repeats(); i++) {
            for (Receivers.Receiver r : receivers.all()) {
                sleepRandom(2, 6);
                log("%s down for %d s", r.ledger().name(), settings.receiverOutage().toSeconds());
                r.down();
                Thread.sleep(settings.receiverOutage().toMillis());
                r.up();
                log("%s up, answering after 6 s (the hub times out at 5 s) for %d s, then after 1 s",
                        r.ledger().name(), settings.slowFor().toSeconds());
                r.slow(Duration.ofSeconds(6));
                Thread.sleep(settings.slowFor().toMillis());
                r.slow(Duration.ofSeconds(1));
                Thread.sleep(settings.slowFor().toMillis());
                r.normal();
            }
        }
        Thread.sleep(5000);
    }

    /** (e) a node restarted while it reloads its configuration (a touched routes file + the reload API). */
    private void restartDuringReload(String tag, List<LoadSender> senders) throws Exception {
        started(tag, 0, senders);
        for (int i = 0; i < settings.repeats(); i++) {
            sleepRandom(3, 8);
            int node = random.nextInt(stack.nodes().size());
            String token = stack.adminToken(); // before the reload starts, so the restart meets it in progress
            Path file = stack.routesDir(node).resolve("destinations.yaml");
            // the touch alone starts a reload (the file watcher, 500 ms debounce); the API call is a second one
            Files.writeString(file, Files.readString(file) + "# touched by the fault campaign " + Instant.now() + "\n");
            CompletableFuture<String> reload = CompletableFuture.supplyAsync(() -> reload(node, token));
            Thread.sleep(100 + random.nextInt(600));
            log("restart node %d during its reload", node);
            stack.node(node).stop(); // graceful (SIGTERM), as a restart by an operator or a deploy
            stack.node(node).start();
            stack.node(node).awaitHealthy(Duration.ofMinutes(4));
            log("node %d healthy again; the reload answered: %s", node, reload.join());
        }
        Thread.sleep(5000);
    }

    private LoadSender started(String tag, long firstSequence, List<LoadSender> senders) {
        LoadSender s = sender(tag, firstSequence, settings.perSecond(), settings.connections());
        senders.add(s);
        s.start();
        return s;
    }

    private LoadSender sender(String tag, long firstSequence, double perSecond, int connections) {
        return new LoadSender(new LoadSender.Options("127.0.0.1", stack.mllpPort("mercy-or"), connections,
                perSecond, tag, Duration.ofSeconds(15), firstSequence));
    }

    private void restart(int node) {
        log("start node %d", node);
        stack.node(node).start();
        stack.node(node).awaitHealthy(Duration.ofMinutes(4)); // a start under load on 2 busy cores took 90 s
        log("node %d healthy", node);
    }

    String reload(int node, String token) {
        try {
            HttpRequest request = HttpRequest.newBuilder(stack.node(node).base().resolve("/api/config/reload"))
                    .header("Authorization", "Bearer " + token)
                    .timeout(Duration.ofSeconds(60)).POST(HttpRequest.BodyPublishers.noBody()).build();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            Matcher m = Pattern.compile("\"outcome\"\\s*:\\s*\"([A-Z_]+)\"").matcher(response.body());
            return response.statusCode() + (m.find() ? " " + m.group(1) : "");
        } catch (Exception e) {
            return "no answer (" + e.getClass().getSimpleName() + ")";
        }
    }

    // ------------------------------------------------------------------ tally

    private static Predicate<String> forTag(String tag) {
        return key -> key.contains("TX-" + tag + "-");
    }

    private Connection db() throws SQLException {
        Properties p = new Properties();
        if (!stack.jdbcUrl().contains("user=")) {
            p.setProperty("user", "postgres");
        }
        return DriverManager.getConnection(stack.jdbcUrl(), p);
    }

    private static final String OF_TAG = " from outbox o join message m on m.id = o.message_id"
            + " where m.interface_id = 'mercy-or' and m.control_id like ?";

    long pending(String tag) throws SQLException {
        try (Connection c = db(); PreparedStatement s = c.prepareStatement("select count(*)" + OF_TAG + " and o.status = 'PENDING'")) {
            s.setString(1, "FC" + tag + "-%");
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    boolean awaitDrained(String tag, Duration bound) throws Exception {
        long end = System.nanoTime() + bound.toNanos();
        long last = -1;
        while (System.nanoTime() < end) {
            try {
                long p = pending(tag);
                if (p == 0) {
                    return true;
                }
                if (p != last) {
                    log("draining: %d rows pending", p);
                    last = p;
                }
            } catch (SQLException e) {
                log("tally query failed (%s), again", e.getSQLState());
            }
            Thread.sleep(2000);
        }
        return false;
    }

    private Result tally(String name, String tag, Duration took, List<LoadSender> senders) throws SQLException {
        long offered = senders.stream().mapToLong(s -> s.offered.get()).sum();
        Set<String> acked = new java.util.HashSet<>();
        senders.forEach(s -> acked.addAll(s.acked));
        long unanswered = senders.stream().mapToLong(s -> s.unanswered().size()).sum();
        long anomalies = senders.stream().mapToLong(s -> s.anomalies.size()).sum();
        senders.forEach(s -> s.anomalies.forEach(a -> log("anomaly: %s answered %s %s", a.controlId(), a.ackCode(), a.error())));
        long resends = senders.stream().mapToLong(s -> s.resends.get()).sum();
        long resend207 = senders.stream().mapToLong(s -> s.resendLater207.get()).sum();
        long journaled;
        long journalDuplicates;
        Map<String, Long> delivered = new LinkedHashMap<>();
        Map<String, Long> dead = new LinkedHashMap<>();
        try (Connection c = db()) {
            try (PreparedStatement s = c.prepareStatement("select count(*), count(distinct control_id) from message"
                    + " where interface_id = 'mercy-or' and status = 'ACCEPTED' and control_id like ?")) {
                s.setString(1, "FC" + tag + "-%");
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    journaled = rs.getLong(2);
                    journalDuplicates = rs.getLong(1) - rs.getLong(2);
                }
            }
            for (Map.Entry<String, String> d : DESTINATIONS.entrySet()) {
                try (PreparedStatement s = c.prepareStatement("select o.status, count(*)" + OF_TAG
                        + " and o.destination = ? group by o.status")) {
                    s.setString(1, "FC" + tag + "-%");
                    s.setString(2, d.getValue());
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next()) {
                            if ("DELIVERED".equals(rs.getString(1))) {
                                delivered.put(d.getKey(), rs.getLong(2));
                            } else if ("DEAD".equals(rs.getString(1))) {
                                dead.put(d.getKey(), rs.getLong(2));
                            }
                        }
                    }
                }
            }
        }
        // lost: an AA'd message that left fewer effects than the probe at some receiver
        Pattern message = Pattern.compile("TX-" + Pattern.quote(tag) + "-(\\d+)-");
        Map<String, Ledger.Tally> ledgers = new LinkedHashMap<>();
        Map<String, Long> lostAt = new LinkedHashMap<>();
        Set<String> lostMessages = new java.util.HashSet<>();
        for (Receivers.Receiver r : receivers.all()) {
            String receiver = r.ledger().name();
            ledgers.put(receiver, r.ledger().tally(forTag(tag)));
            Map<String, Integer> perMessage = new HashMap<>();
            r.ledger().effects().forEach((key, times) -> {
                Matcher m = message.matcher(key);
                if (m.find()) {
                    perMessage.merge(LoadSender.controlId(tag, Long.parseLong(m.group(1))), 1, Integer::sum);
                }
            });
            long lost = 0;
            for (String id : acked) {
                if (perMessage.getOrDefault(id, 0) < expected.get(receiver)) {
                    lost++;
                    lostMessages.add(id);
                    if (lost <= 5) {
                        log("LOST at %s: %s (%d of %d effects)", receiver, id, perMessage.getOrDefault(id, 0), expected.get(receiver));
                    }
                }
            }
            lostAt.put(receiver, lost);
            r.ledger().effects().forEach((key, times) -> {
                if (times > 1 && forTag(tag).test(key)) {
                    log("DUPLICATE at %s: %s applied %d times", receiver, key, times);
                }
            });
        }
        return new Result(name, tag, took, offered, acked.size(), unanswered, anomalies, journaled, journalDuplicates,
                delivered, dead, ledgers, lostAt, lostMessages.size(), resends, resend207);
    }

    static void print(List<Result> results) {
        String header = "| campaign | s | offered | AA | journaled | delivered b/i/f | duplicates b/i/f | same-key redeliveries b/i/f | lost | sender resends (207) | anomalies | unanswered | dead b/i/f | |";
        System.out.println(header);
        System.out.println(header.replaceAll("[^|]+", " --- "));
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "| %s | %d | %d | %d | %d%s | %s | %s | %s | %d | %d (%d) | %d | %d | %s | %s |%n",
                    r.campaign(), r.took().toSeconds(), r.offered(), r.acked(), r.journaled(),
                    r.journalDuplicates() > 0 ? " (+" + r.journalDuplicates() + " doubled!)" : "",
                    triple(r.delivered()), triple(r.ledger(), Ledger.Tally::duplicates),
                    triple(r.ledger(), Ledger.Tally::redeliveries), r.lost(), r.resends(), r.resend207(),
                    r.anomalies(), r.unanswered(), triple(r.dead()), r.passed() ? "ok" : "**FAIL**");
        }
    }

    private static String triple(Map<String, Long> m) {
        return m.getOrDefault("billing", 0L) + " / " + m.getOrDefault("inventory", 0L) + " / " + m.getOrDefault("fhir", 0L);
    }

    private static String triple(Map<String, Ledger.Tally> m, java.util.function.ToLongFunction<Ledger.Tally> f) {
        return f.applyAsLong(m.get("billing")) + " / " + f.applyAsLong(m.get("inventory")) + " / " + f.applyAsLong(m.get("fhir"));
    }

    private void sleepRandom(int fromSeconds, int toSeconds) throws InterruptedException {
        Thread.sleep(fromSeconds * 1000L + random.nextInt((toSeconds - fromSeconds) * 1000 + 1));
    }

    static void log(String format, Object... args) {
        System.out.printf("%tT  %s%n", Instant.now().toEpochMilli(), args.length == 0 ? format : String.format(format, args));
    }
}
