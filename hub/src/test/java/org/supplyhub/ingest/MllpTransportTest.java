package org.supplyhub.ingest;

import org.supplyhub.support.JournalColumns;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/** MLLP framing and connection handling, over real sockets. */
@SpringBootTest(properties = {"hub.mllp.idle-timeout=2s", "hub.mllp.max-frame-size=64KB"})
@DirtiesContext
class MllpTransportTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    JournalKeys keys;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.h2().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    int port() {
        return INTERFACES.ports.get("mercy-or");
    }

    @Test
    void twoFramesInOneWriteEachGetTheirAck() throws Exception {
        String a = Samples.withControlId(Samples.read(Samples.MERCY), "PAIR-A");
        String b = Samples.withControlId(Samples.read(Samples.MERCY), "PAIR-B");
        ByteArrayOutputStream both = new ByteArrayOutputStream();
        both.write(Mllp.frame(a.getBytes(StandardCharsets.UTF_8)));
        both.write(Mllp.frame(b.getBytes(StandardCharsets.UTF_8)));
        try (Mllp mllp = new Mllp(port())) {
            mllp.write(both.toByteArray()); // one TCP write
            String first = mllp.read(StandardCharsets.UTF_8);
            String second = mllp.read(StandardCharsets.UTF_8);
            assertThat(first).contains("\rMSA|AA|PAIR-A");
            assertThat(second).contains("\rMSA|AA|PAIR-B");
        }
    }

    @Test
    void thirtyTwoConcurrentConnections() throws Exception {
        String template = Samples.read(Samples.MERCY);
        ExecutorService pool = Executors.newFixedThreadPool(32);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int c = 0; c < 32; c++) {
                int connection = c;
                results.add(pool.submit(() -> {
                    List<String> acks = new ArrayList<>();
                    try (Mllp mllp = new Mllp(port())) {
                        for (int i = 0; i < 10; i++) {
                            acks.add(mllp.send(Samples.withControlId(template, "CONC-" + connection + "-" + i),
                                    StandardCharsets.UTF_8));
                        }
                    }
                    return acks;
                }));
            }
            for (int c = 0; c < 32; c++) {
                List<String> acks = results.get(c).get();
                for (int i = 0; i < 10; i++) {
                    assertThat(acks.get(i)).contains("\rMSA|AA|CONC-" + c + "-" + i);
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(jdbc.queryForObject("select count(*) from message where control_id like 'CONC-%' and status = 'ACCEPTED'",
                Integer.class)).isEqualTo(320);
    }

    @Test
    void charsetFromMsh18RoundTripsNonAsciiNames() throws Exception {
        assertRoundTrip("UNICODE UTF-8", StandardCharsets.UTF_8, "NÚÑEZ^ZOË^Ł", "CS-UTF8");
        assertRoundTrip("8859/1", StandardCharsets.ISO_8859_1, "MÜLLER^RENÉE^Ç", "CS-LATIN1");
    }

    private void assertRoundTrip(String msh18, Charset charset, String name, String controlId) throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId)
                .replace("UNICODE UTF-8", msh18)
                .replace("VALDEZ^ROSA^M", name);
        try (Mllp mllp = new Mllp(port())) {
            assertThat(mllp.send(er7, charset)).contains("\rMSA|AA|" + controlId);
        }
        Map<String, Object> row = jdbc.queryForMap("select raw, charset from message where control_id = ?", controlId);
        assertThat(row.get("charset")).isEqualTo(charset.name());
        String stored = new String(new JournalColumns(jdbc, keys).open(Column.MESSAGE_RAW, (byte[]) row.get("raw")),
                Charset.forName((String) row.get("charset")));
        HapiContext hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
        Message parsed = hapi.getPipeParser().parse(stored);
        Terser terser = new Terser(parsed);
        assertThat(terser.get("/PID-5-1") + "^" + terser.get("/PID-5-2") + "^" + terser.get("/PID-5-3")).isEqualTo(name);
        hapi.close();
    }

    @Test
    void oversizedFrameGetsArAndTheConnectionGoesOn() throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "HUGE-1");
        StringBuilder big = new StringBuilder(er7);
        while (big.length() < 5 * 1024 * 1024) { // 5 MiB against a 64 KB limit
            big.append("\rNTE|1||").append("X".repeat(1000));
        }
        long heapBefore = usedHeap();
        try (Mllp mllp = new Mllp(port())) {
            String ack = mllp.send(big.toString(), StandardCharsets.UTF_8);
            assertThat(ack).contains("\rMSA|AR|HUGE-1").contains("exceeds the limit");
            String next = mllp.send(Samples.withControlId(Samples.read(Samples.MERCY), "AFTER-HUGE"), StandardCharsets.UTF_8);
            assertThat(next).contains("\rMSA|AA|AFTER-HUGE");
        }
        Map<String, Object> row = jdbc.queryForMap("select status, raw from message where control_id = 'HUGE-1'");
        assertThat(row.get("status")).isEqualTo("REJECTED");
        assertThat(new JournalColumns(jdbc, keys).open(Column.MESSAGE_RAW, (byte[]) row.get("raw")).length).as("only the head is kept").isLessThanOrEqualTo(4096);
        System.out.printf("oversized frame: heap grew by %d KB while a 5 MiB frame was discarded%n",
                (usedHeap() - heapBefore) / 1024);
    }

    @Test
    void idleConnectionsAreClosed() throws Exception {
        try (Mllp mllp = new Mllp(port())) {
            long started = System.nanoTime();
            assertThat(mllp.closedByPeer()).isTrue();
            long waitedMs = (System.nanoTime() - started) / 1_000_000;
            assertThat(waitedMs).isBetween(1500L, 15000L);
        }
    }

    private static long usedHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
