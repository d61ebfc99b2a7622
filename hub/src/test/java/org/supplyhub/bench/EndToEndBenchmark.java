package org.supplyhub.bench;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import com.sun.net.httpserver.HttpServer;
import org.supplyhub.support.FhirTestServer;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.InetSocketAddress;
import java.nio.file.Files;
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

/**
 * End-to-end mode of the benchmark: the hub (own JVM, PostgreSQL) ingests unique Mercy messages
 * over MLLP and delivers each to three local receivers — billing over MLLP (HAPI server), inventory
 * over HTTP, a HAPI FHIR RestfulServer — and prints delivered msg/s and ACK→delivered latency.
 *
 * <pre>./mvnw -pl hub -Pbench verify -Dbench.mode=e2e</pre>
 */
final class EndToEndBenchmark {

    private EndToEndBenchmark() {
    }

    static void run(double bareThroughput) throws Exception {
        int messages = IntakeBenchmark.MESSAGES / 2;
        HapiContext hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
        int billingPort = TestInterfaces.freePort();
        HL7Service billing = hapi.newServer(billingPort, false);
        billing.registerApplication("*", "*", new ReceivingApplication<Message>() {
            @Override
            public Message processMessage(Message message, Map<String, Object> metadata) {
                try {
                    return message.generateACK(AcknowledgmentCode.AA, null);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public boolean canProcess(Message message) {
                return true;
            }
        });
        billing.startAndWait();
        int inventoryPort = TestInterfaces.freePort();
        HttpServer inventory = HttpServer.create(new InetSocketAddress("127.0.0.1", inventoryPort), 0);
        inventory.createContext("/stock", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(201, -1);
            exchange.close();
        });
        inventory.start();
        FhirTestServer fhir = new FhirTestServer();

        Map<String, String> db = TestDatabases.postgres();
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        Files.writeString(interfaces.routesDir.resolve("destinations.yaml"), """
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: mercy-billing }
                      - { name: connector, value: mllp }
                      - { name: output, value: charges }
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
                      - { name: url, value: "%s" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: lakeside-billing }
                      - { name: connector, value: file }
                      - { name: output, value: charges }
                      - { name: directory, value: "%s" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: lakeside-inventory }
                      - { name: connector, value: file }
                      - { name: output, value: stock }
                      - { name: directory, value: "%s" }
                """.formatted(billingPort, inventoryPort, fhir.baseUrl(), interfaces.outDir, interfaces.outDir));
        List<String> hubArgs = new ArrayList<>(List.of("-Xmx512m", "-Xms512m", "-XX:+UseParallelGC"));
        String extra = System.getProperty("bench.hubJvmArgs", ""); // e.g. a JFR recording
        if (!extra.isBlank()) {
            hubArgs.addAll(List.of(extra.trim().split("\\s+")));
        }
        hubArgs.addAll(List.of("org.supplyhub.SupplyHubApplication", "--server.port=0", "--logging.level.root=WARN"));
        db.forEach((k, v) -> hubArgs.add("--" + k + "=" + v));
        interfaces.properties().forEach((k, v) -> hubArgs.add("--" + k + "=" + v));
        Process hub = IntakeBenchmark.startJvm(hubArgs, "hub-e2e");
        try {
            int port = interfaces.ports.get("mercy-or");
            IntakeBenchmark.waitForPort(port, 120);
            IntakeBenchmark.closedLoop(port, 4000, IntakeBenchmark.CONNECTIONS); // warm-up, drained below
            waitDrained(db, 300);
            long started = System.currentTimeMillis();
            IntakeBenchmark.Result intake = IntakeBenchmark.closedLoop(port, messages, IntakeBenchmark.CONNECTIONS);
            long intakeEnded = System.currentTimeMillis();
            long backlogAtIntakeEnd = count(db, PENDING);
            waitDrained(db, 600);
            long drainedAt = System.currentTimeMillis();
            double delivered = messages / ((drainedAt - started) / 1000.0);
            long[] latencies = latencies(db, started);
            Arrays.sort(latencies);
            System.out.printf("%nend to end: %d messages → billing (MLLP), inventory (HTTP), FHIR server%n", messages);
            IntakeBenchmark.print("intake during e2e", intake);
            System.out.printf("delivered           %8.0f msg/s   ACK→delivered p50 %d ms  p99 %d ms   (all 3 destinations)%n",
                    delivered, latencies[latencies.length / 2], latencies[(int) (latencies.length * 0.99)]);
            System.out.printf("delivery alone      %8.0f rows/s  (the %d rows left when intake stopped; 3 rows a message)%n",
                    backlogAtIntakeEnd / Math.max(0.001, (drainedAt - intakeEnded) / 1000.0), backlogAtIntakeEnd);
            System.out.printf("FHIR server holds   %d resources (7 per message, conditional creates)%n", fhir.stored.size());
            if (bareThroughput > 0) {
                System.out.printf("ratio delivered / bare  %.2f   (target >= 0.3)%n", delivered / bareThroughput);
            }
            // Sustained: a fixed offered rate; the backlog must stay flat (draining), not grow.
            System.out.printf("%nsustained: offered rate for %d s each; backlog = outbox rows not yet delivered%n",
                    SUSTAIN_SECONDS);
            int best = 0;
            int step = (int) Math.max(10, Math.round(delivered / 4 / 10) * 10);
            // up from the flood's rate until a rate fails twice (once may be the JIT still compiling, a GC
            // or a noisy neighbour)
            for (int rate = step * 4; rate <= step * 20; rate += step) {
                if (!sustain(db, port, rate, hub.pid()) && !sustain(db, port, rate, hub.pid())) {
                    break;
                }
                best = rate;
            }
            System.out.printf("sustained e2e       %8d msg/s   highest offered rate taken in full with a flat backlog%s%n", best,
                    bareThroughput > 0 ? String.format("   ratio to bare %.2f", best / bareThroughput) : "");
        } finally {
            hub.destroy();
            billing.stopAndWait();
            inventory.stop(0);
            fhir.close();
            hapi.close();
        }
    }

    private static final int SUSTAIN_SECONDS = Integer.getInteger("bench.sustainSeconds", 30);

    /**
     * Offers {@code rate} msg/s for {@link #SUSTAIN_SECONDS} and samples the backlog each second.
     * Sustained means intake took at least 97 % of the offered rate and the backlog was flat: it
     * grew over the second half by less than 5 % of the rows offered in it.
     */
    static boolean sustain(Map<String, String> db, int port, int rate, long hubPid) throws Exception {
        long started = System.currentTimeMillis();
        Map<String, Double> cpuBefore = CpuTime.snapshot(hubPid);
        ExecutorService sampler = Executors.newSingleThreadExecutor();
        List<Long> backlog = Collections.synchronizedList(new ArrayList<>());
        var sampling = sampler.submit(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                backlog.add(count(db, PENDING));
                Thread.sleep(1000);
            }
            return null;
        });
        IntakeBenchmark.Result offered = IntakeBenchmark.openLoop(port, rate, SUSTAIN_SECONDS, IntakeBenchmark.CONNECTIONS);
        sampling.cancel(true);
        sampler.shutdownNow();
        long atEnd = count(db, PENDING);
        List<Long> samples = new ArrayList<>(backlog);
        long atHalf = samples.isEmpty() ? 0 : samples.get(samples.size() / 2);
        long max = samples.stream().mapToLong(Long::longValue).max().orElse(atEnd);
        boolean flat = atEnd - atHalf <= 0.05 * 3 * rate * SUSTAIN_SECONDS / 2;
        boolean keptUp = offered.throughput() >= 0.97 * rate;
        waitDrained(db, 600);
        String cpu = CpuTime.perMessage(cpuBefore, CpuTime.snapshot(hubPid), offered.count());
        long[] latencies = latencies(db, started);
        Arrays.sort(latencies);
        System.out.printf("offered %5d msg/s  intake %5.0f msg/s  ACK p99 %6.1f ms  backlog mid %6d  end %6d  max %6d"
                + "  ACK→delivered p50 %6d ms  p99 %6d ms   %s%n", rate, offered.throughput(), offered.percentile(99),
                atHalf, atEnd, max, latencies[latencies.length / 2], latencies[(int) (latencies.length * 0.99)],
                !keptUp ? "INTAKE BEHIND" : flat ? "flat" : "GROWING");
        System.out.printf("        CPU, intake to drained: %s%n", cpu);
        return flat && keptUp;
    }

    private static final String PENDING = "select count(*) from outbox where status <> 'DELIVERED'";

    static void waitDrained(Map<String, String> db, int seconds) throws Exception {
        long deadline = System.currentTimeMillis() + seconds * 1000L;
        while (System.currentTimeMillis() < deadline) {
            if (count(db, PENDING) == 0) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("the outbox did not drain in " + seconds + " s");
    }

    /** Per message received after {@code sinceMillis}: last delivery time minus receive time, in ms. */
    static long[] latencies(Map<String, String> db, long sinceMillis) throws Exception {
        try (Connection c = DriverManager.getConnection(db.get("spring.datasource.url"),
                TestDatabases.postgresUser(), TestDatabases.postgresPassword())) {
            ResultSet rs = c.createStatement().executeQuery("select extract(epoch from max(o.delivered_at) - m.received_at)"
                    + " * 1000 from message m join outbox o on o.message_id = m.id where m.received_at >= to_timestamp("
                    + sinceMillis / 1000.0 + ") group by m.id");
            List<Long> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
            return out.stream().mapToLong(Long::longValue).toArray();
        }
    }

    static long count(Map<String, String> db, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection(db.get("spring.datasource.url"),
                TestDatabases.postgresUser(), TestDatabases.postgresPassword())) {
            ResultSet rs = c.createStatement().executeQuery(sql);
            rs.next();
            return rs.getLong(1);
        }
    }
}
