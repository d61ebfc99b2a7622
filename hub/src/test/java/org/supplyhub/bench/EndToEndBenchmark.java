package org.supplyhub.bench;

import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * End-to-end mode: the hub (own JVM, PostgreSQL, encryption on) ingests unique Mercy messages over
 * MLLP and delivers each to three real receivers in another JVM ({@link Receivers}): billing over
 * MLLP (HAPI server), inventory over HTTP, a HAPI FHIR RestfulServer. Rounds as the headline's (each
 * until the outbox has drained) with CPU per message from /proc for the hub (intake + three
 * deliveries), the receivers, PostgreSQL and the load generator; then the receivers' counts:
 * duplicates and losses. {@code -Dbench.sustain=true} adds the sustained search (offered rates up
 * until the backlog grows).
 *
 * <pre>./mvnw -pl hub -Pbench verify -Dbench.mode=e2e</pre>
 */
final class EndToEndBenchmark {

    static final int ROUNDS = Integer.getInteger("bench.e2eRounds", IntakeBenchmark.ROUNDS);
    private static final boolean SUSTAIN = Boolean.getBoolean("bench.sustain");
    private static final int SUSTAIN_SECONDS = Integer.getInteger("bench.sustainSeconds", 20);

    private EndToEndBenchmark() {
    }

    static void run() throws Exception {
        int billingPort = TestInterfaces.freePort();
        int inventoryPort = TestInterfaces.freePort();
        int fhirPort = TestInterfaces.freePort();
        List<String> receiverJvm = new ArrayList<>(IntakeBenchmark.SERVER_JVM);
        receiverJvm.addAll(List.of(Receivers.class.getName(), String.valueOf(billingPort), String.valueOf(inventoryPort),
                String.valueOf(fhirPort)));
        Process receivers = IntakeBenchmark.startJvm(receiverJvm, "receivers");
        try {
            IntakeBenchmark.waitForPort(billingPort, 60);
            IntakeBenchmark.waitForPort(inventoryPort, 60);
            IntakeBenchmark.waitForPort(fhirPort, 60);
            String destinations = """
                    - templatedRoute:
                        routeTemplateRef: outbox-delivery
                        parameters:
                          - { name: destination, value: mercy-billing }
                          - { name: connector, value: mllp }
                          - { name: output, value: charges }
                          - { name: receivingApplication, value: PATACCT }
                          - { name: receivingFacility, value: MERCY }
                          - { name: url, value: "mllp://127.0.0.1:%d" }
                    - templatedRoute:
                        routeTemplateRef: outbox-delivery
                        parameters:
                          - { name: destination, value: mercy-inventory }
                          - { name: connector, value: http }
                          - { name: output, value: stock }
                          - { name: url, value: "http://127.0.0.1:%d/stock" }
                    - templatedRoute:
                        routeTemplateRef: outbox-delivery
                        parameters:
                          - { name: destination, value: fhir-server }
                          - { name: connector, value: fhir }
                          - { name: output, value: fhir }
                          - { name: url, value: "http://127.0.0.1:%d/fhir" }
                    """.formatted(billingPort, inventoryPort, fhirPort);
            System.out.printf("Supply Hub end-to-end benchmark: %d rounds of %d messages, %d MLLP connections, %d cores;"
                            + " hub (encryption on) → billing (MLLP), inventory (HTTP), FHIR server, receivers in their own JVM%n",
                    ROUNDS, IntakeBenchmark.MESSAGES, IntakeBenchmark.CONNECTIONS, Runtime.getRuntime().availableProcessors());
            try (IntakeBenchmark.Hub hub = IntakeBenchmark.Hub.start(true, true, shipped -> replaceMercy(shipped, destinations))) {
                hub.warm();
                hub.parts = new ArrayList<>(hub.parts);
                hub.parts.add(hub.parts.size() - 1, CpuTime.Part.of("receivers", receivers.pid()));
                Path jfr = IntakeBenchmark.JFR ? IntakeBenchmark.Jfr.start(hub.process.pid(), "e2e") : null;
                List<IntakeBenchmark.Round> rounds = new ArrayList<>();
                for (int r = 1; r <= ROUNDS; r++) {
                    long since = System.currentTimeMillis();
                    IntakeBenchmark.Round round = hub.round(r);
                    rounds.add(round);
                    System.out.printf("        ACK→delivered (all 3 destinations) %s%n", latencies(hub.db, since));
                }
                if (jfr != null) {
                    IntakeBenchmark.Jfr.stopAndPrint(hub.process.pid(), jfr);
                }
                System.out.printf("%nmedians of %d rounds%n", ROUNDS);
                IntakeBenchmark.printMedians("hub e2e", rounds);
                System.out.printf("hub CPU per message (intake + three deliveries): %.3f ms (target <= 1.0);"
                                + " receivers %.3f, PostgreSQL %.3f (+ background %.3f), load generator %.3f%n",
                        IntakeBenchmark.median(rounds, x -> x.cpu("hub")), IntakeBenchmark.median(rounds, x -> x.cpu("receivers")),
                        IntakeBenchmark.median(rounds, x -> x.cpu("PostgreSQL")),
                        IntakeBenchmark.median(rounds, x -> x.cpu("PostgreSQL background")),
                        IntakeBenchmark.median(rounds, x -> x.cpu("load generator")));
                receiverCounts(inventoryPort, hub.sent);
                if (SUSTAIN) {
                    sustained(hub, IntakeBenchmark.median(rounds, IntakeBenchmark.Round::delivered));
                    receiverCounts(inventoryPort, hub.sent);
                }
            }
        } finally {
            receivers.destroy();
            receivers.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /**
     * The shipped destinations with Mercy's three (mercy-billing, mercy-inventory, fhir-server) replaced
     * by the receivers; the other interfaces' destinations stay files, as shipped.
     */
    static String replaceMercy(String shipped, String receivers) {
        StringBuilder out = new StringBuilder();
        for (String block : shipped.split("(?m)^(?=- templatedRoute:)")) {
            if (!block.matches("(?s).*value: (mercy-billing|mercy-inventory|fhir-server)\\s.*")) {
                out.append(block);
            }
        }
        return out.append(receivers).toString();
    }

    /** What the receivers got against what the hub ACKed: every message once at each of the three. */
    static void receiverCounts(int inventoryPort, long sent) throws Exception {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
                "http://127.0.0.1:" + inventoryPort + "/counts")).build(), HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Long> c = Receivers.parse(body);
        long duplicates = c.get("billing.duplicates") + c.get("inventory.duplicates") + c.get("fhir.duplicates");
        long lost = Math.max(0, sent - (c.get("billing.received") - c.get("billing.duplicates")))
                + Math.max(0, sent - (c.get("inventory.received") - c.get("inventory.duplicates")))
                + Math.max(0, sent - (c.get("fhir.transactions") - c.get("fhir.duplicates")));
        System.out.printf("receivers: %d messages ACKed; billing %d received, inventory %d, FHIR %d transactions"
                        + " (%d resources stored, conditional creates)%n", sent, c.get("billing.received"),
                c.get("inventory.received"), c.get("fhir.transactions"), c.get("fhir.stored"));
        System.out.printf("duplicates at receivers: %d   (billing %d by MSH-10, inventory %d by Idempotency-Key, FHIR %d"
                        + " transactions received again, by bundle identifiers); lost: %d%n", duplicates, c.get("billing.duplicates"),
                c.get("inventory.duplicates"), c.get("fhir.duplicates"), lost);
        // a FHIR transaction sent again (a retry after a timeout) creates nothing: its entries are conditional creates
        System.out.printf("FHIR resources stored: %d = %.2f per message ACKed (a transaction received again adds none)%n",
                c.get("fhir.stored"), c.get("fhir.stored") / (double) Math.max(1, sent));
    }

    /** Per message received after {@code sinceMillis}: last delivery minus receipt, p50/p99 in ms. */
    static String latencies(Map<String, String> db, long sinceMillis) {
        try (Connection c = DriverManager.getConnection(IntakeBenchmark.jdbcUrl(db).replaceAll("ApplicationName=[^&]*",
                "ApplicationName=bench-watcher"), TestDatabases.postgresUser(),
                TestDatabases.postgresPassword());
             ResultSet rs = c.createStatement().executeQuery("select extract(epoch from max(o.delivered_at) - m.received_at)"
                     + " * 1000 from message m join outbox o on o.message_id = m.id where m.received_at >= to_timestamp("
                     + sinceMillis / 1000.0 + ") group by m.id")) {
            List<Long> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
            long[] sorted = out.stream().mapToLong(Long::longValue).sorted().toArray();
            if (sorted.length == 0) {
                return "(none)";
            }
            return String.format("p50 %d ms  p99 %d ms", sorted[sorted.length / 2], sorted[(int) (sorted.length * 0.99)]);
        } catch (Exception e) {
            return "(not measured: " + e.getClass().getSimpleName() + ")"; // the schema may have changed
        }
    }

    /** Offered rates up from a quarter of the flood's delivered rate until one fails twice. */
    static void sustained(IntakeBenchmark.Hub hub, double delivered) throws Exception {
        System.out.printf("%nsustained: offered rate for %d s each; backlog = outbox rows not yet delivered%n", SUSTAIN_SECONDS);
        int best = 0;
        int step = (int) Math.max(10, Math.round(delivered / 4 / 10) * 10);
        // a rate fails twice before it counts as failed: once may be the JIT, a GC or a noisy neighbour
        for (int rate = step * 4; rate <= step * 20; rate += step) {
            if (!sustain(hub, rate) && !sustain(hub, rate)) {
                break;
            }
            best = rate;
        }
        System.out.printf("sustained e2e       %8d msg/s   highest offered rate taken in full with a flat backlog%n", best);
    }

    /**
     * Offers {@code rate} msg/s and samples the backlog each second. Sustained means intake took at
     * least 97 % of the offered rate and the backlog grew over the second half by less than 5 % of
     * the rows offered in it.
     */
    static boolean sustain(IntakeBenchmark.Hub hub, int rate) throws Exception {
        Map<String, Double> cpuBefore = CpuTime.snapshot(hub.parts);
        ExecutorService sampler = Executors.newSingleThreadExecutor();
        List<Long> backlog = Collections.synchronizedList(new ArrayList<>());
        var sampling = sampler.submit(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                backlog.add(hub.pending());
                Thread.sleep(1000);
            }
            return null;
        });
        IntakeBenchmark.Result offered = IntakeBenchmark.openLoop(hub.port, rate, SUSTAIN_SECONDS, IntakeBenchmark.CONNECTIONS);
        hub.sent += offered.count();
        sampling.cancel(true);
        sampler.shutdownNow();
        sampler.awaitTermination(5, TimeUnit.SECONDS);
        long atEnd = hub.pending();
        List<Long> samples = new ArrayList<>(backlog);
        long atHalf = samples.isEmpty() ? 0 : samples.get(samples.size() / 2);
        long max = Arrays.stream(samples.toArray(Long[]::new)).mapToLong(Long::longValue).max().orElse(atEnd);
        boolean flat = atEnd - atHalf <= 0.05 * IntakeBenchmark.MERCY_DESTINATIONS * rate * SUSTAIN_SECONDS / 2;
        boolean keptUp = offered.throughput() >= 0.97 * rate;
        hub.drain();
        System.out.printf("offered %5d msg/s  intake %5.0f msg/s  ACK p99 %6.1f ms  backlog mid %6d  end %6d  max %6d  %s%n",
                rate, offered.throughput(), offered.percentile(99), atHalf, atEnd, max,
                !keptUp ? "INTAKE BEHIND" : flat ? "flat" : "GROWING");
        System.out.printf("        CPU, intake to drained: %s%n",
                CpuTime.format(CpuTime.perMessage(cpuBefore, CpuTime.snapshot(hub.parts), offered.count())));
        return flat && keptUp;
    }
}
