package org.supplyhub.ingest;

import org.supplyhub.support.JournalColumns;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoSpyBean;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;

/**
 * Hostile input over real MLLP and HTTP on PostgreSQL (issue 9 items 6, 8, 9, 13): every frame gets
 * an answer, fast, and one sender's message neither exhausts the hub nor stalls the others.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"hub.mllp.idle-timeout=2s", "camel.component.netty.maximum-pool-size=32"})
@DirtiesContext
@ExtendWith(OutputCaptureExtension.class)
class HostileInputTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    /** Messages with this control id take this long in intake: a stand-in for any slow message. */
    static final String SLOW = "SLOW-ONE";
    static final long SLOW_MILLIS = 15_000;
    static final String BOOM = "BOOM-ONE";

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    JournalKeys keys;

    @MockitoSpyBean
    IntakeService intake;

    @LocalServerPort
    int httpPort;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    int mercy() {
        return INTERFACES.ports.get("mercy-or");
    }

    int lakeside() {
        return INTERFACES.ports.get("lakeside-cath");
    }

    // item 6 -----------------------------------------------------------------------------------

    @Test
    void aBadMshIsAnsweredArNamingMsh1OrMsh2OverMllpAndHttp() throws Exception {
        String rest = "ORMGR|MERCY_OR|SUPPLYHUB|HUB|20261114093512||DFT^P03^DFT_P03|BADMSH-1|P|2.5.1\rEVN|P03|20261114093512";
        Map<String, String> frames = Map.of(
                "MSH\rEVN|P03|20261114093512", "MSH^1^1",
                "MSH|\n^~\\&|" + rest, "MSH^1^2",
                "MSH|^~", "MSH^1^2",
                "MSH|^^\\&|" + rest, "MSH^1^2",
                "MSH|^~\u0000&|" + rest, "MSH^1^2");
        for (Map.Entry<String, String> f : frames.entrySet()) {
            String ack;
            try (Mllp mllp = new Mllp(mercy())) {
                ack = mllp.send(f.getKey(), StandardCharsets.ISO_8859_1);
            }
            assertThat(ack).as("MLLP answer to %s", f.getKey()).isNotNull().contains("\rMSA|AR");
            assertThat(segment(ack, "ERR")).contains(f.getValue()).contains("102");

            HttpResponse<String> http = post("mercy-or", f.getKey());
            assertThat(http.statusCode()).as("HTTP status for %s", f.getKey()).isEqualTo(200);
            assertThat(http.body()).contains("\rMSA|AR");
            assertThat(segment(http.body(), "ERR")).contains(f.getValue());
        }
    }

    @Test
    void anUnexpectedFailureOverHttpIsProblemJsonWithoutDetails() throws Exception {
        doAnswer(inv -> {
            byte[] raw = inv.getArgument(1);
            if (new String(raw, StandardCharsets.ISO_8859_1).contains(BOOM)) {
                throw new IllegalStateException("a defect quoting VALDEZ^ROSA");
            }
            return inv.callRealMethod();
        }).when(intake).receive(any(), any(), any(), any());
        HttpResponse<String> response = post("mercy-or", Samples.withControlId(Samples.read(Samples.MERCY), BOOM));
        assertThat(response.statusCode()).isEqualTo(500);
        assertThat(response.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/problem+json");
        assertThat(response.body()).doesNotContain("VALDEZ").doesNotContain("Exception").doesNotContain("\tat ");
    }

    // item 8 -----------------------------------------------------------------------------------

    @Test
    void theHeapExhaustingMessageGetsArQuicklyAndTheListenerKeepsAnswering() throws Exception {
        String hostile = Samples.withControlId(Hl7LimitsTest.hostile(), "HOSTILE-1");
        long allocatedBefore = allocatedBytes();
        long started = System.nanoTime();
        String ack;
        try (Mllp mllp = new Mllp(lakeside())) {
            ack = mllp.send(hostile, StandardCharsets.UTF_8);
        }
        long millis = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("hostile %d KB DFT (PID-14 = ~^& x 100,000): answered in %d ms, hub allocated ~%d MB%n",
                hostile.length() / 1024, millis, (allocatedBytes() - allocatedBefore) / (1024 * 1024));
        assertThat(ack).contains("\rMSA|AR|HOSTILE-1");
        assertThat(segment(ack, "ERR")).contains("PID^1^14").contains("102").contains("hub.hl7.max-repetitions");
        assertThat(millis).isLessThan(5_000);
        assertThat(jdbc.queryForObject("select status from message where control_id = 'HOSTILE-1'", String.class))
                .isEqualTo("REJECTED");

        // the same over HTTP
        HttpResponse<String> http = post("lakeside-cath", Samples.withControlId(hostile, "HOSTILE-2"));
        assertThat(http.statusCode()).isEqualTo(200);
        assertThat(http.body()).contains("\rMSA|AR|HOSTILE-2");

        // a million-digit quantity (item 9's 58 s mapping) is refused before parsing, by its length
        String digits = Samples.withField(Samples.withControlId(Samples.read(Samples.MERCY), "DIGITS-1"), "FT1", 10,
                "9".repeat(1_000_000));
        started = System.nanoTime();
        try (Mllp mllp = new Mllp(mercy())) {
            String digitsAck = mllp.send(digits, StandardCharsets.UTF_8);
            assertThat(digitsAck).contains("\rMSA|AR|DIGITS-1");
            assertThat(segment(digitsAck, "ERR")).contains("FT1^1^10").contains("hub.hl7.max-field-length");
        }
        assertThat((System.nanoTime() - started) / 1_000_000).isLessThan(5_000);

        // new connections are still answered, and health stays UP
        try (Mllp mllp = new Mllp(lakeside())) {
            String next = mllp.send(Samples.withControlId(Samples.read(Samples.LAKESIDE), "AFTER-HOSTILE"),
                    StandardCharsets.UTF_8);
            assertThat(next).contains("\rMSA|AA|AFTER-HOSTILE");
        }
        HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + httpPort + "/actuator/health")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.body()).contains("\"UP\"");
    }

    @Test
    void aDftWithFiveHundredLinesIsStillTaken() throws Exception {
        String big = Samples.withControlId(Hl7LimitsTest.fiveHundredLines(), "BIG-500");
        try (Mllp mllp = new Mllp(mercy())) {
            assertThat(mllp.send(big, StandardCharsets.UTF_8)).contains("\rMSA|AA|BIG-500");
        }
        assertThat(jdbc.queryForObject("select line_count from message where control_id = 'BIG-500'", Integer.class))
                .isEqualTo(500);
    }

    // item 9 -----------------------------------------------------------------------------------

    @Test
    void aSlowMessageDoesNotStallOtherConnections() throws Exception {
        doAnswer(inv -> {
            byte[] raw = inv.getArgument(1);
            if (new String(raw, StandardCharsets.ISO_8859_1).contains(SLOW)) {
                Thread.sleep(SLOW_MILLIS);
            }
            return inv.callRealMethod();
        }).when(intake).receive(any(), any(), any(), any());
        ExecutorService pool = Executors.newFixedThreadPool(41);
        try {
            CountDownLatch slowSent = new CountDownLatch(1);
            Future<String> slow = pool.submit(() -> {
                try (Mllp mllp = new Mllp(mercy())) {
                    mllp.write(Mllp.frame(Samples.withControlId(Samples.read(Samples.MERCY), SLOW).getBytes(StandardCharsets.UTF_8)));
                    slowSent.countDown();
                    return mllp.read(StandardCharsets.UTF_8);
                }
            });
            assertThat(slowSent.await(5, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(300); // the slow message is being processed
            List<Future<Long>> others = new ArrayList<>();
            for (int c = 0; c < 40; c++) {
                String controlId = "BESIDE-SLOW-" + c;
                others.add(pool.submit(() -> {
                    long started = System.nanoTime();
                    try (Mllp mllp = new Mllp(mercy())) {
                        String ack = mllp.send(Samples.withControlId(Samples.read(Samples.MERCY), controlId),
                                StandardCharsets.UTF_8);
                        assertThat(ack).contains("\rMSA|AA|" + controlId);
                    }
                    return (System.nanoTime() - started) / 1_000_000;
                }));
            }
            long slowest = 0;
            for (Future<Long> f : others) {
                slowest = Math.max(slowest, f.get(60, TimeUnit.SECONDS));
            }
            System.out.printf("beside a %d ms message: the slowest of 40 other connections was answered in %d ms%n",
                    SLOW_MILLIS, slowest);
            assertThat(slowest).as("no connection waits for the slow message").isLessThan(5_000);
            assertThat(slow.get(60, TimeUnit.SECONDS)).contains("\rMSA|AA|" + SLOW);
        } finally {
            pool.shutdownNow();
        }
    }

    // item 13 ----------------------------------------------------------------------------------

    @Test
    void japaneseMsh18IsReadAndAnsweredInIso2022Jp() throws Exception {
        Charset jis = Charset.forName("ISO-2022-JP");
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "CS-JIS")
                .replace("UNICODE UTF-8", "ISO IR87").replace("VALDEZ^ROSA^M", "山田^花子");
        String ack;
        try (Mllp mllp = new Mllp(mercy())) {
            ack = mllp.send(er7, jis);
        }
        assertThat(ack).contains("\rMSA|AA|CS-JIS").contains("|ISO IR87");
        Map<String, Object> row = jdbc.queryForMap("select raw, charset from message where control_id = 'CS-JIS'");
        assertThat(row.get("charset")).isEqualTo("ISO-2022-JP");
        assertThat(new String(new JournalColumns(jdbc, keys).open(Column.MESSAGE_RAW, (byte[]) row.get("raw")), jis)).contains("PID|1||MRN448812^^^MERCY^MR||山田^花子|");
    }

    @Test
    void controlCharactersAndLetterDelimitersDoNotBreakTheAck() throws Exception {
        // a raw FS in MSH-3 and MSH-10: the ACK frame must not end early
        String fs = Samples.withControlId(Samples.read(Samples.MERCY), "FS\u001cID")
                .replace("|ORMGR|", "|OR\u001cMGR|");
        try (Mllp mllp = new Mllp(mercy())) {
            String ack = mllp.send(fs, StandardCharsets.UTF_8);
            assertThat(ack).contains("\rMSA|").contains("FS\\X1C\\ID").doesNotContain("\u001c");
            // the connection is still framed: the next message gets its own ACK
            assertThat(mllp.send(Samples.withControlId(Samples.read(Samples.MERCY), "AFTER-FS"), StandardCharsets.UTF_8))
                    .contains("\rMSA|AA|AFTER-FS");
        }

        // letters as delimiters: MSA-1 must still read AA/AE/AR
        String letters = Samples.withControlId(Samples.read(Samples.MERCY), "LETTERS1")
                .replace("|", "X").replace("^", "Y").replace("~", "Z").replace("\\", "Q").replace("&", "W");
        try (Mllp mllp = new Mllp(mercy())) {
            String ack = mllp.send(letters, StandardCharsets.UTF_8);
            assertThat(ack).startsWith("MSH|^~\\&|");
            assertThat(segment(ack, "MSA")).matches("MSA\\|(AA|AE|AR)\\|.*");
        }
    }

    @Test
    void anIdleCloseIsOneLineWithoutStackTrace(CapturedOutput output) throws Exception {
        try (Mllp mllp = new Mllp(mercy())) {
            assertThat(mllp.closedByPeer()).isTrue();
        }
        Thread.sleep(200);
        assertThat(output.getOut()).contains("idle for 2000 ms; closing it");
        assertThat(output.getAll()).doesNotContain("ReadTimeoutException").doesNotContain("Closing channel as an exception");
    }

    // ------------------------------------------------------------------------------------------

    HttpResponse<String> post(String iface, String er7) throws Exception {
        String client = iface.startsWith("lakeside") ? Tokens.LAKESIDE : Tokens.MERCY;
        String token = Tokens.sample(httpPort, client, "ingest:" + iface);
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/hl7/" + iface))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/hl7-v2; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(er7, StandardCharsets.UTF_8)).build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
    }

    static String segment(String ack, String name) {
        for (String segment : ack.split("\r")) {
            if (segment.startsWith(name + "|")) {
                return segment;
            }
        }
        return null;
    }

    /** Bytes allocated by all live threads of this JVM (the hub runs in it). */
    static long allocatedBytes() {
        var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long total = 0;
        for (long id : threads.getAllThreadIds()) {
            long b = threads.getThreadAllocatedBytes(id);
            total += Math.max(0, b);
        }
        return total;
    }
}
