package org.supplyhub.journal;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.flywaydb.core.Flyway;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DriverManagerDataSource;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.journal.crypto.Column;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.KeyRing;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * What encryption at rest costs per message, in CPU time of the thread doing it (a command, not a test;
 * robust to a machine whose other cores are busy): the journal's preparation of the Mercy sample as
 * intake journals it — raw, ACK, usage JSON, device row, keyed hashes (FHIR resources are rendered
 * on demand since issue 16, not journaled) — with encryption on and off, and the reads delivery and
 * the admin API do (usage, raw).
 *
 * <pre>java -cp hub/target/test-classes:hub/target/classes:$(cat cp.txt) org.supplyhub.journal.EncryptionCostBenchmark [messages]</pre>
 */
public final class EncryptionCostBenchmark {

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        InterfaceDefinition iface = InterfaceCatalog.load(interfaces.routesDir, interfaces.mappingsDir).get("mercy-or");
        byte[] raw = Samples.read(Samples.MERCY).getBytes(StandardCharsets.UTF_8);
        MessageTranslator.Accepted a = (MessageTranslator.Accepted) new MessageTranslator(new Hl7Support())
                .translate(iface, raw, null);
        ObjectMapper json = Jackson2ObjectMapperBuilder.json().build();
        String usageJson = a.render().journal(json.writeValueAsString(a.usage()));

        DriverManagerDataSource ds = new DriverManagerDataSource("jdbc:h2:mem:" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1", "sa", "");
        Flyway.configure().dataSource(ds).locations("classpath:db/migration").load().migrate();
        JdbcTemplate jdbc = new JdbcTemplate(ds);
        byte[] kek = new byte[32];
        new SecureRandom().nextBytes(kek);
        JournalKeys on = new JournalKeys(jdbc, KeyRing.of(kek, List.of()), true, Clock.systemUTC());
        JournalKeys off = new JournalKeys(jdbc, KeyRing.of(kek, List.of()), false, Clock.systemUTC());
        Journal sealingOn = new Journal(jdbc, on, 0, Duration.ofSeconds(30));
        Journal sealingOff = new Journal(jdbc, off, 0, Duration.ofSeconds(30));

        int bytes = raw.length + a.ack().length() + usageJson.length();
        System.out.printf("Encryption cost: the Mercy sample, %d bytes of PHI columns per message, %d messages%n",
                bytes, n);
        for (int round = 0; round < 3; round++) { // the first rounds warm the JIT up
            double plain = prepare(sealingOff, a, raw, usageJson, n);
            double sealed = prepare(sealingOn, a, raw, usageJson, n);
            Journal.Sealed one = sealingOn.seal(entry(a, raw, usageJson));
            double open = open(on, one, n);
            System.out.printf("round %d: journal preparation %.1f µs plain, %.1f µs encrypted (+%.1f µs); reading it back"
                    + " (usage, raw) %.1f µs CPU per message%n", round + 1, plain, sealed, sealed - plain, open);
        }
    }

    static Journal.Entry entry(MessageTranslator.Accepted a, byte[] raw, String usageJson) {
        ReceivedMessage m = ReceivedMessage.received("mercy-or", Instant.now(), "bench", "UTF-8", raw)
                .header(a.header().sender(), a.header().controlId(), a.header().type(), a.header().version())
                .contentHash(Journal.sha256(a.text())).answered(MessageStatus.ACCEPTED, "AA", a.ack(), null);
        return new Journal.Entry(m, usageJson, a.usage().lines().size(), List.of("mercy-billing", "mercy-inventory"),
                "mercy-or|ACCT90017733", DeviceUse.of(a.usage()), a.usage());
    }

    /** CPU µs per message of {@link Journal#seal}: encryption (when on) and every keyed hash. */
    static double prepare(Journal journal, MessageTranslator.Accepted a, byte[] raw, String usageJson,
                          int n) {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        Journal.Entry e = entry(a, raw, usageJson);
        long start = cpu.getCurrentThreadCpuTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
            sink += journal.seal(e).raw().length;
        }
        long used = cpu.getCurrentThreadCpuTime() - start;
        if (sink == 42) {
            System.out.println();
        }
        return used / 1000.0 / n;
    }

    static double open(JournalKeys keys, Journal.Sealed s, int n) {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        long start = cpu.getCurrentThreadCpuTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
            sink += keys.openText(Column.MESSAGE_USAGE, s.usageJson()).length();
            sink += keys.open(Column.MESSAGE_RAW, s.raw()).length;
        }
        long used = cpu.getCurrentThreadCpuTime() - start;
        if (sink == 42) {
            System.out.println();
        }
        return used / 1000.0 / n;
    }
}
