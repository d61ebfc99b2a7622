package org.supplyhub.delivery;

import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.v251.message.DFT_P03;
import ca.uhn.hl7v2.util.Terser;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.supplyhub.config.ConnectorKind;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.SupplyUsage.Line;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * {@link MllpConnector} against a receiver on a real socket that frames by hand (so HAPI's framing on
 * the hub side is checked against an independent reading of the bytes) and answers as each test
 * scripts it: ACK codes, late ACKs, ACKs of another message, connections closed while idle.
 */
class MllpConnectorTest {

    private Receiver receiver;
    private MllpConnector mllp;

    @BeforeEach
    void start() throws IOException {
        receiver = new Receiver();
        mllp = new MllpConnector(8);
    }

    @AfterEach
    void stop() throws IOException {
        mllp.close();
        receiver.close();
    }

    @Test
    void anAaIsDeliveredAndItsConnectionServesTheNextSend() throws Exception {
        DestinationDefinition d = destination(Duration.ofSeconds(5), false);
        assertThat(mllp.send(d, dft(1))).isEqualTo("AA");
        assertThat(mllp.send(d, dft(2))).isEqualTo("AA");
        assertThat(receiver.controlIds).containsExactly("SH1", "SH2");
        assertThat(receiver.connections).hasValue(1);
        assertThat(mllp.openConnections()).isEqualTo(1);
    }

    @Test
    void aCaIsDeliveredToo() throws Exception {
        receiver.answer = (id, conn) -> Reply.ack("CA", id);
        assertThat(mllp.send(destination(Duration.ofSeconds(5), false), dft(1))).isEqualTo("CA");
    }

    @Test
    void anAeIsARetryAndTheConnectionStays() throws Exception {
        receiver.answer = (id, conn) -> Reply.ack(id.equals("SH1") ? "AE" : "AA", id);
        DestinationDefinition d = destination(Duration.ofSeconds(5), false);
        DeliveryException e = failure(() -> mllp.send(d, dft(1)));
        assertThat(e.code()).isEqualTo("AE");
        assertThat(e.permanent()).isFalse();
        assertThat(mllp.send(d, dft(2))).isEqualTo("AA");
        assertThat(receiver.connections).hasValue(1);
    }

    @Test
    void anArIsDeadUnlessRejectionsAreRetried() throws Exception {
        receiver.answer = (id, conn) -> Reply.ack("AR", id);
        DeliveryException dead = failure(() -> mllp.send(destination(Duration.ofSeconds(5), false), dft(1)));
        assertThat(dead.code()).isEqualTo("AR");
        assertThat(dead.permanent()).isTrue();
        DeliveryException retried = failure(() -> mllp.send(destination(Duration.ofSeconds(5), true), dft(2)));
        assertThat(retried.code()).isEqualTo("AR");
        assertThat(retried.permanent()).isFalse();
        receiver.answer = (id, conn) -> Reply.ack("CR", id);
        assertThat(failure(() -> mllp.send(destination(Duration.ofSeconds(5), false), dft(3))).permanent()).isTrue();
    }

    @Test
    void aTimeoutDiscardsTheConnectionAndTheLateAckIsNeverRead() throws Exception {
        // the first message's ACK (an AR) comes after the timeout: it must not answer anything
        receiver.answer = (id, conn) -> id.equals("SH1") ? Reply.late("AR", id, 1500) : Reply.ack("AA", id);
        DestinationDefinition d = destination(Duration.ofMillis(300), false);
        DeliveryException e = failure(() -> mllp.send(d, dft(1)));
        assertThat(e.code()).isEqualTo("NO-ACK");
        assertThat(e.permanent()).isFalse();
        assertThat(mllp.openConnections()).isZero();
        assertThat(mllp.send(d, dft(2))).isEqualTo("AA");
        assertThat(receiver.connections).hasValue(2);
        Thread.sleep(1600); // the late ACK has been written to the first connection by now
        assertThat(mllp.send(d, dft(3))).isEqualTo("AA");
        assertThat(receiver.connections).hasValue(2);
        assertThat(receiver.controlIds).containsExactly("SH1", "SH2", "SH3");
    }

    @Test
    void aReceiverThatTricklesItsAnswerCannotHoldASenderPastTheTimeout() throws Exception {
        // one byte every 200 ms: each read is well inside a 1 s socket timeout, the whole answer is not
        receiver.raw = (id, out) -> {
            for (byte b : framed(ackText("AA", id))) {
                out.write(b);
                out.flush();
                Thread.sleep(200);
            }
        };
        DestinationDefinition d = destination(Duration.ofSeconds(1), false);
        long started = System.nanoTime();
        DeliveryException e = failure(() -> mllp.send(d, dft(1)));
        long took = Duration.ofNanos(System.nanoTime() - started).toMillis();
        assertThat(e.code()).isEqualTo("NO-ACK");
        assertThat(took).as("ms the send took").isLessThan(1_600);
        assertThat(mllp.openConnections()).isZero();
    }

    @Test
    void anAnswerThatNeverEndsIsCutOffAndItsConnectionClosed() throws Exception {
        // a start byte, then more than any ACK without an end byte, as fast as the socket takes it
        receiver.raw = (id, out) -> {
            out.write(0x0b);
            byte[] chunk = "MSA|AA|".repeat(1_000).getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 100; i++) {
                out.write(chunk);
            }
        };
        DestinationDefinition d = destination(Duration.ofSeconds(30), false);
        long started = System.nanoTime();
        DeliveryException e = failure(() -> mllp.send(d, dft(1)));
        assertThat(e.code()).isEqualTo("NO-ACK");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        assertThat(mllp.openConnections()).isZero();
    }

    @Test
    void aConnectionWithBytesLeftAfterItsAckIsNotReused() throws Exception {
        // the ACK, then a second copy of it right behind: the next message on this connection would read
        // that copy as its answer
        receiver.raw = (id, out) -> {
            byte[] ack = framed(ackText("AA", id));
            byte[] twice = new byte[ack.length * 2];
            System.arraycopy(ack, 0, twice, 0, ack.length);
            System.arraycopy(ack, 0, twice, ack.length, ack.length);
            out.write(twice);
        };
        DestinationDefinition d = destination(Duration.ofSeconds(5), false);
        assertThat(mllp.send(d, dft(1))).isEqualTo("AA");
        assertThat(mllp.openConnections()).as("closed, not pooled").isZero();
        receiver.raw = null;
        assertThat(mllp.send(d, dft(2))).isEqualTo("AA");
        assertThat(receiver.connections).hasValue(2);
        assertThat(mllp.openConnections()).isEqualTo(1);
    }

    @Test
    void anAckOfAnotherMessageIsNotDeliveredAndItsConnectionIsClosed() throws Exception {
        receiver.answer = (id, conn) -> Reply.ack("AA", id.equals("SH1") ? "SH999" : id);
        DestinationDefinition d = destination(Duration.ofSeconds(5), false);
        DeliveryException e = failure(() -> mllp.send(d, dft(1)));
        assertThat(e.code()).isEqualTo("NO-ACK");
        assertThat(e.permanent()).isFalse();
        assertThat(mllp.openConnections()).isZero();
        await(() -> receiver.ended.get() == 1, "the receiver sees the connection closed");
        assertThat(mllp.send(d, dft(2))).isEqualTo("AA");
        assertThat(receiver.connections).hasValue(2);
    }

    @Test
    void garbageOrAnEmptyAnswerIsNoAck() throws Exception {
        DestinationDefinition d = destination(Duration.ofSeconds(5), false);
        receiver.answer = (id, conn) -> new Reply("this is no ACK", 0, false);
        assertThat(failure(() -> mllp.send(d, dft(1))).code()).isEqualTo("NO-ACK");
        receiver.answer = (id, conn) -> new Reply("MSH|^~\\&|B|F|SUPPLYHUB|HUB|20261129||ACK|X1|P|2.5.1\r", 0, false);
        assertThat(failure(() -> mllp.send(d, dft(2))).code()).isEqualTo("NO-ACK");
        receiver.answer = (id, conn) -> new Reply(null, 0, true); // reads it, closes without a word
        assertThat(failure(() -> mllp.send(d, dft(3))).code()).isEqualTo("NO-ACK");
        assertThat(mllp.openConnections()).isZero();
        assertThat(receiver.controlIds).containsExactly("SH1", "SH2", "SH3"); // a fresh connection is not resent on
    }

    @Test
    void aPooledConnectionTheReceiverClosedWhileIdleIsReplacedAndTheMessageGoesOnce() throws Exception {
        receiver.answer = (id, conn) -> new Reply(ackText("AA", id), 0, true); // answers, then closes
        DestinationDefinition d = destination(Duration.ofSeconds(5), false);
        assertThat(mllp.send(d, dft(1))).isEqualTo("AA");
        await(() -> receiver.ended.get() == 1, "the receiver closes the first connection");
        Thread.sleep(50); // the close reaches the hub's side
        assertThat(mllp.send(d, dft(2))).isEqualTo("AA");
        assertThat(receiver.controlIds).containsExactly("SH1", "SH2");
        assertThat(receiver.connections).hasValue(2);
    }

    @Test
    void aPooledConnectionDroppedWithoutAnAnswerIsResentOnceOnANewOneWithTheSameControlId() throws Exception {
        DestinationDefinition d = destination(Duration.ofSeconds(5), false);
        assertThat(mllp.send(d, dft(1))).isEqualTo("AA");
        receiver.answer = (id, conn) -> new Reply(null, 0, true); // reads every message, closes without a word
        DeliveryException e = failure(() -> mllp.send(d, dft(2)));
        assertThat(e.code()).isEqualTo("NO-ACK");
        // once on the pooled connection, once more on a new one, and no more
        assertThat(receiver.controlIds).containsExactly("SH1", "SH2", "SH2");
        assertThat(receiver.connections).hasValue(2);
        assertThat(mllp.openConnections()).isZero();
    }

    @Test
    void concurrentSendsEachGetTheirOwnAck() throws Exception {
        // odd control ids are answered AE, even ones AA, after a random pause: a send that read another's
        // ACK would see the wrong code (and MSA-2 would not match)
        receiver.answer = (id, conn) -> new Reply(ackText(Long.parseLong(id.substring(2)) % 2 == 0 ? "AA" : "AE", id),
                ThreadLocalRandom.current().nextInt(3), false);
        DestinationDefinition d = destination(Duration.ofSeconds(10), false);
        int threads = 8;
        int each = 40;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            List<Future<List<String>>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t * each;
                results.add(pool.submit((Callable<List<String>>) () -> {
                    List<String> wrong = new ArrayList<>();
                    for (long id = first; id < first + each; id++) {
                        String code;
                        try {
                            code = mllp.send(d, dft(id));
                        } catch (DeliveryException e) {
                            code = e.code();
                        }
                        if (!code.equals(id % 2 == 0 ? "AA" : "AE")) {
                            wrong.add("SH" + id + " got " + code);
                        }
                    }
                    return wrong;
                }));
            }
            for (Future<List<String>> r : results) {
                assertThat(r.get()).isEmpty();
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(receiver.controlIds).hasSize(threads * each).doesNotHaveDuplicates();
        assertThat(receiver.connections.get()).isLessThanOrEqualTo(threads);
        assertThat(mllp.openConnections()).isLessThanOrEqualTo(threads);
    }

    @Test
    void idleConnectionsAreBounded() throws Exception {
        MllpConnector two = new MllpConnector(2);
        try {
            receiver.answer = (id, conn) -> Reply.late("AA", id, 500); // all five connect before any ACK
            DestinationDefinition d = destination(Duration.ofSeconds(5), false);
            ExecutorService pool = Executors.newFixedThreadPool(5);
            try {
                List<Future<String>> sends = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    long id = i;
                    sends.add(pool.submit(() -> two.send(d, dft(id))));
                }
                for (Future<String> s : sends) {
                    assertThat(s.get()).isEqualTo("AA");
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(receiver.connections).hasValue(5);
            assertThat(two.openConnections()).isEqualTo(2);
            await(() -> receiver.ended.get() == 3, "the connections beyond the bound are closed");
        } finally {
            two.close();
        }
        await(() -> receiver.ended.get() == 5, "shutdown closes the idle ones");
    }

    @Test
    void theBytesOnTheWireAreBillingDftsAndHapiReadsThemAsTheSameDft() throws Exception {
        SupplyUsage usage = BillingDftTest.shippedUsages().get(0);
        List<Line> chargeable = usage.lines().stream().filter(Line::chargeable).toList();
        // a facility name outside ASCII: the DFT says UTF-8 in MSH-18, and UTF-8 is what goes
        DestinationDefinition d = BillingDftTest.withReceiver(destination(Duration.ofSeconds(5), false),
                new DestinationDefinition.Hl7Receiver("PATACCT", "Hôpital Sainte-Thérèse"), "mercy-billing");
        Clock pinned = Clock.fixed(Instant.parse("2026-11-29T18:05:00.120Z"), ZoneId.of("America/Chicago"));
        Payloads payloads = new Payloads(BillingDftTest.HL7, BillingDftTest.JSON, pinned);
        Connector.Payload payload = payloads.render(d, 42, 3, usage, List.of());

        assertThat(mllp.send(d, payload)).isEqualTo("AA");

        byte[] wire = receiver.received.get(0);
        String expected = new BillingDft(BillingDftTest.HL7, pinned).compose(d, 42, usage, chargeable);
        assertThat(wire).isEqualTo(expected.getBytes(StandardCharsets.UTF_8)).isEqualTo(payload.body());
        String text = new String(wire, StandardCharsets.UTF_8);
        Message parsed = BillingDftTest.HL7.parse(text);
        assertThat(parsed).isInstanceOf(DFT_P03.class);
        Terser terser = new Terser(parsed);
        assertThat(terser.get("/MSH-10")).isEqualTo("SH42");
        assertThat(terser.get("/MSH-6")).isEqualTo("Hôpital Sainte-Thérèse");
        assertThat(BillingDftTest.HL7.encode(parsed)).isEqualTo(text);
        // and HAPI's own model of it, as the hub built it before: the same DFT once MSH-7/EVN-2 (now) differ
        String hapi = BillingDftTest.HL7.encode(payloads.billingDft(d, 42, usage, chargeable));
        String written = new BillingDft(BillingDftTest.HL7, Clock.fixed(BillingDftTest.msh7(hapi), ZoneId.systemDefault()))
                .compose(d, 42, usage, chargeable);
        assertThat(written).isEqualTo(hapi);
    }

    @Test
    void anMllpDestinationFallsBackToHapisEncodingAsAFileOneDoesAndIsCounted() throws Exception {
        org.supplyhub.hl7.Hl7Support forcing = new org.supplyhub.hl7.Hl7Support();
        forcing.newMessage(DFT_P03.class).getParser().getParserConfiguration().addForcedEncode("PV1-30");
        Payloads payloads = new Payloads(forcing, BillingDftTest.JSON);
        SupplyUsage usage = BillingDftTest.shippedUsages().get(0);
        Connector.Payload p = payloads.render(destination(Duration.ofSeconds(5), false), 7, 3, usage, List.of());
        assertThat(new String(p.body(), StandardCharsets.UTF_8)).contains("\rPV1|||||||||||||||||||V55012874|||||||||||\r");
        assertThat(payloads.dftFallbacks()).isEqualTo(1);
        assertThat(mllp.send(destination(Duration.ofSeconds(5), false), p)).isEqualTo("AA");
        assertThat(receiver.received.get(0)).isEqualTo(p.body());
    }

    @Test
    void theAckIsReadAsHapisTerserReadsIt() {
        assertThat(MllpConnector.ack("MSH|^~\\&|A|B|C|D|1||ACK|9|P|2.5.1\rMSA|AA|SH7\r"))
                .isEqualTo(new MllpConnector.Ack("AA", "SH7"));
        assertThat(MllpConnector.ack("MSH|^~\\&|A|B|C|D|1||ACK|9|P|2.5.1\nMSA|AE|SH7|text\n"))
                .isEqualTo(new MllpConnector.Ack("AE", "SH7"));
        assertThat(MllpConnector.ack("MSH|^~\\&|A|B|C|D|1||ACK|9|P|2.5.1\r\nMSA|AR^x|SH7~SH8\r\nERR|||207\r\n"))
                .isEqualTo(new MllpConnector.Ack("AR", "SH7"));
        assertThat(MllpConnector.ack("MSH#^~\\&#A#B#C#D#1##ACK#9#P#2.5.1\rMSA#CA#SH7"))
                .isEqualTo(new MllpConnector.Ack("CA", "SH7"));
        assertThat(MllpConnector.ack("MSH|^~\\&|A|B|C|D|1||ACK|9|P|2.5.1\rMSA|AA\r"))
                .isEqualTo(new MllpConnector.Ack("AA", ""));
        assertThat(MllpConnector.ack("MSH|^~\\&|A|B|C|D|1||ACK|9|P|2.5.1\rMSAX|AA|SH7\r")).isNull();
        assertThat(MllpConnector.ack("MSH|^~\\&|A|B|C|D|1||ACK|9|P|2.5.1\rMSA||SH7\r")).isNull();
        assertThat(MllpConnector.ack("garbage")).isNull();
        assertThat(MllpConnector.ack(null)).isNull();
        assertThat(MllpConnector.controlId("MSH|^~\\&|SUPPLYHUB|HUB|B|F|20261129||DFT^P03^DFT_P03|SH7|P|2.5.1\rEVN|P03\r"))
                .isEqualTo("SH7");
        assertThat(MllpConnector.controlId("MSH|^~\\&|SUPPLYHUB|HUB|B|F|20261129||DFT^P03^DFT_P03\rEVN|SH7\r")).isNull();
    }

    /** The DeliveryException a send threw (it must throw one). */
    static DeliveryException failure(ThrowingCallable send) {
        DeliveryException e = catchThrowableOfType(DeliveryException.class, send);
        assertThat(e).as("a DeliveryException").isNotNull();
        return e;
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime()).as(what).isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    DestinationDefinition destination(Duration timeout, boolean retryRejected) {
        return new DestinationDefinition("mercy-billing", "test.yaml", ConnectorKind.MLLP,
                DestinationDefinition.Output.CHARGES, null, URI.create("mllp://127.0.0.1:" + receiver.port()), timeout,
                DestinationDefinition.Format.ER7, 10, Duration.ofDays(1), Duration.ofMillis(50), Duration.ofSeconds(1),
                Duration.ofMillis(100), Duration.ofSeconds(30), 10, null, retryRejected, null);
    }

    static Connector.Payload dft(long outboxId) {
        String er7 = "MSH|^~\\&|SUPPLYHUB|HUB|PATACCT|MERCY|20261129120500||DFT^P03^DFT_P03|SH" + outboxId
                + "|P|2.5.1||||||UNICODE UTF-8\rEVN|P03|20261129120500\rPID|||MRN1\r";
        return new Connector.Payload("mercy-billing-" + outboxId, outboxId, "application/hl7-v2", "hl7",
                er7.getBytes(StandardCharsets.UTF_8));
    }

    static String ackText(String code, String controlId) {
        return "MSH|^~\\&|PATACCT|MERCY|SUPPLYHUB|HUB|20261129120501||ACK^P03^ACK|A" + controlId + "|P|2.5.1\r"
                + "MSA|" + code + "|" + controlId + "\r";
    }

    /** What the receiver does with one message: answer (null: none), after a pause, then close or not. */
    record Reply(String ack, long delayMillis, boolean close) {
        static Reply ack(String code, String controlId) {
            return new Reply(ackText(code, controlId), 0, false);
        }

        static Reply late(String code, String controlId, long millis) {
            return new Reply(ackText(code, controlId), millis, false);
        }
    }

    @FunctionalInterface
    interface Answer {
        Reply to(String controlId, int connection);
    }

    @FunctionalInterface
    interface RawAnswer {
        void write(String controlId, OutputStream out) throws IOException, InterruptedException;
    }

    static byte[] framed(String text) {
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.write(0x0b);
        f.writeBytes(text.getBytes(StandardCharsets.UTF_8));
        f.write(0x1c);
        f.write(0x0d);
        return f.toByteArray();
    }

    /** An MLLP receiver that reads frames byte by byte and answers as {@link #answer} says. */
    static final class Receiver implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        final List<byte[]> received = Collections.synchronizedList(new ArrayList<>());
        final List<String> controlIds = Collections.synchronizedList(new ArrayList<>());
        final AtomicInteger connections = new AtomicInteger();
        /** Connections that ended (the hub closed them, or the receiver did). */
        final AtomicInteger ended = new AtomicInteger();
        final java.util.Set<Socket> sockets = ConcurrentHashMap.newKeySet();
        volatile Answer answer = (id, conn) -> Reply.ack("AA", id);
        /** When set, writes the answer's bytes itself, framing and all (or none of it). */
        volatile RawAnswer raw;

        Receiver() throws IOException {
            Thread acceptor = new Thread(this::accept, "test-mllp-receiver");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    sockets.add(s);
                    int n = connections.incrementAndGet();
                    Thread t = new Thread(() -> serve(s, n), "test-mllp-connection-" + n);
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s, int n) {
            try (s) {
                InputStream in = s.getInputStream();
                OutputStream out = s.getOutputStream();
                while (true) {
                    byte[] frame = frame(in);
                    if (frame == null) {
                        return;
                    }
                    received.add(frame);
                    String text = new String(frame, StandardCharsets.UTF_8);
                    String id = text.substring(0, text.indexOf('\r')).split("\\|", -1)[9];
                    controlIds.add(id);
                    RawAnswer bytes = raw;
                    if (bytes != null) {
                        bytes.write(id, out);
                        out.flush();
                        continue;
                    }
                    Reply reply = answer.to(id, n);
                    if (reply.delayMillis() > 0) {
                        Thread.sleep(reply.delayMillis());
                    }
                    if (reply.ack() != null) {
                        byte[] ack = reply.ack().getBytes(StandardCharsets.UTF_8);
                        ByteArrayOutputStream f = new ByteArrayOutputStream();
                        f.write(0x0b);
                        f.write(ack);
                        f.write(0x1c);
                        f.write(0x0d);
                        out.write(f.toByteArray());
                        out.flush();
                    }
                    if (reply.close()) {
                        return;
                    }
                }
            } catch (IOException | InterruptedException e) {
                // the hub closed it (a late ACK written to a closed connection ends here)
            } finally {
                sockets.remove(s);
                ended.incrementAndGet();
            }
        }

        /** One frame's content, or null at the end of the stream. */
        private static byte[] frame(InputStream in) throws IOException {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            if (b != 0x0b) {
                throw new IOException("no start block");
            }
            ByteArrayOutputStream content = new ByteArrayOutputStream();
            while (true) {
                b = in.read();
                if (b < 0) {
                    throw new IOException("the stream ended in a frame");
                }
                if (b == 0x1c) {
                    if (in.read() != 0x0d) {
                        throw new IOException("no CR after the end block");
                    }
                    return content.toByteArray();
                }
                content.write(b);
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }
}
