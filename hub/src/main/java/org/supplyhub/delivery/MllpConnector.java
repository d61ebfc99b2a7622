package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.hl7.Hl7Header;

import ca.uhn.hl7v2.llp.LLPException;
import ca.uhn.hl7v2.llp.MinLLPReader;
import ca.uhn.hl7v2.llp.MinLLPWriter;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;

/**
 * Sends billing DFTs over MLLP and waits for the ACK: AA (or CA) → delivered; AE → retry; AR → dead
 * (the receiver rejects the message itself; {@code onReject: retry} makes it a retry); no ACK in
 * time, or an answer that is not an ACK of this message → retry ({@code NO-ACK}) with the same
 * control id, so the receiver can tell a resend from a new charge.
 * <p>
 * The DFT goes as the ER7 bytes {@link Payloads} rendered, framed by HAPI's own MLLP writer and
 * reader, and only MSA-1 and MSA-2 of the answer are read: HAPI's initiator took a message object,
 * which cost a DFT model per send plus its encoding, the ACK's parse and a reader thread. Rendering
 * and sending the Mercy sample's DFT took 267-300 µs of CPU per message that way (sender and HAPI's
 * reader thread) and takes 15-18 µs now (medians of 3 runs, {@code MllpSendTiming}). Connections are
 * pooled per host and port, one exchange at a time on each (so an ACK answers the message sent on
 * its connection, and MSA-2 must still name it); a connection that ends an exchange in any other
 * way than a matching ACK with nothing after it is closed, never reused, and one idle for more than
 * 30 s is closed rather than tried. A send has one deadline, the destination's timeout, for connecting,
 * writing and reading the whole answer (the resend on a stale connection included), and an answer is
 * cut off past 64 KiB. Plain TCP, as HAPI's client was: outbound MLLP has no TLS setting.
 */
@Component
public class MllpConnector implements Connector {

    private static final Logger log = LoggerFactory.getLogger(MllpConnector.class);

    /** Idle connections kept per host and port; more at once are opened, and closed after their exchange. */
    private final int maxIdle;
    /** An ACK is a few hundred bytes; more than this is not an ACK, and reading on would only fill the heap. */
    static final int MAX_ANSWER_BYTES = 64 * 1024;
    /** How long a connection may sit idle in the pool before it is closed rather than reused. */
    static final long MAX_IDLE_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final Map<String, BlockingDeque<Link>> idle = new ConcurrentHashMap<>();
    /** Every open connection, idle or in use, so that shutdown closes them all (and unblocks their reads). */
    private final Set<Link> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /** As many idle connections per receiver as a destination has senders (each sends one message at a time). */
    public MllpConnector(@Value("${hub.delivery.senders:8}") int maxIdle) {
        if (maxIdle < 1) {
            throw new IllegalArgumentException("maxIdle must be at least 1");
        }
        this.maxIdle = maxIdle;
    }

    @Override
    public String send(DestinationDefinition d, Payload payload) throws DeliveryException {
        String host = d.url().getHost();
        String er7 = new String(payload.body(), StandardCharsets.UTF_8);
        String controlId = controlId(er7);
        if (controlId == null) { // Payloads always sets MSH-10 ("SH" + outbox id): this is a bug, not a passing failure
            throw new DeliveryException("the DFT for " + host + " has no MSH-10", "RENDER", true, null);
        }
        // One deadline for the whole send, the resend on a stale connection included: the worker's lease
        // assumes a send ends within the destination's timeout, and a receiver that trickles bytes must
        // not hold a sender longer than that
        long deadline = System.nanoTime() + d.timeout().toNanos();
        String key = host + ":" + d.url().getPort();
        BlockingDeque<Link> pool = idle.computeIfAbsent(key, k -> new LinkedBlockingDeque<>(maxIdle));
        Link link = borrow(pool);
        Ack ack;
        boolean reusable = false;
        try {
            try {
                if (link != null) {
                    try {
                        ack = link.exchange(er7, deadline);
                    } catch (StaleConnection e) {
                        // The receiver closed this connection while it sat idle (its idle timeout, a restart):
                        // it ended before a single byte of an answer. Sending again at once on a new connection
                        // is safe: the resend carries the same MSH-10, so a receiver that did take the first
                        // copy can tell it is a resend; waiting for the worker's backoff would only delay it.
                        discard(link);
                        link = null;
                        log.debug("MLLP connection to {} was closed while idle; resending control id {} on a new one",
                                key, controlId);
                        link = connect(d, deadline);
                        ack = link.exchange(er7, deadline);
                    }
                } else {
                    link = connect(d, deadline);
                    ack = link.exchange(er7, deadline);
                }
            } catch (IOException | LLPException e) { // a timeout, reset, end of stream, broken or endless frame
                throw new DeliveryException("no ACK from " + host + ": " + e.getClass().getSimpleName(), "NO-ACK", false, e);
            }
            if (ack == null || !controlId.equals(ack.controlId())) {
                // nothing in time, not an ACK, or an ACK of some other message: it must not settle this one,
                // and the connection it came on is out of step with us
                throw new DeliveryException("no ACK from " + host + (ack == null ? "" : ": an ACK of another message"),
                        "NO-ACK", false, null);
            }
            // only a connection with nothing left after its ACK goes back: a second answer waiting there
            // would be read as the next message's
            reusable = link.drained();
        } finally {
            if (reusable) {
                release(pool, link);
            } else {
                discard(link); // on every other way out, a RuntimeException included
            }
        }
        String code = ack.code();
        if ("AA".equals(code) || "CA".equals(code)) {
            return code;
        }
        boolean rejected = ("AR".equals(code) || "CR".equals(code)) && !d.retryRejected();
        throw new DeliveryException(host + " answered " + code, code, rejected, null);
    }

    /**
     * The most recently used idle connection (the least likely to have been closed by now), skipping
     * those idle longer than {@link #MAX_IDLE_NANOS}: a firewall or NAT may have dropped them without a
     * reset, and a send on one would wait its whole timeout for nothing.
     */
    private Link borrow(BlockingDeque<Link> pool) {
        for (Link link = pool.pollFirst(); link != null; link = pool.pollFirst()) {
            if (System.nanoTime() - link.idleSince <= MAX_IDLE_NANOS) {
                return link;
            }
            discard(link);
        }
        return null;
    }

    private Link connect(DestinationDefinition d, long deadline) throws IOException {
        if (closed) {
            throw new SocketException("the hub is shutting down");
        }
        Socket socket = new Socket();
        try {
            socket.setTcpNoDelay(true);
            socket.setKeepAlive(true);
            socket.connect(new InetSocketAddress(d.url().getHost(), d.url().getPort()), remainingMillis(deadline));
            Link link = new Link(socket);
            open.add(link);
            if (closed) { // close() may have run between the check above and the add
                discard(link);
                throw new SocketException("the hub is shutting down");
            }
            return link;
        } catch (IOException | RuntimeException e) {
            socket.close();
            throw e;
        }
    }

    private void release(BlockingDeque<Link> pool, Link link) {
        link.idleSince = System.nanoTime();
        if (closed || !pool.offerFirst(link)) { // shutting down, or enough idle connections already
            discard(link);
        } else if (closed) { // close() may have drained the pool before this link was put back
            pool.remove(link);
            discard(link);
        }
    }

    private void discard(Link link) {
        if (link != null) {
            open.remove(link);
            link.close();
        }
    }

    /** What is left until the deadline, at least 1 ms (0 would mean "no timeout" to a socket). */
    static int remainingMillis(long deadline) throws SocketTimeoutException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("the destination's timeout has passed");
        }
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(left)));
    }

    /** Number of open connections, idle or in use (tests). */
    int openConnections() {
        return open.size();
    }

    @PreDestroy
    void close() {
        closed = true;
        idle.values().forEach(BlockingDeque::clear);
        open.forEach(this::discard);
    }

    /** MSA-1 (the acknowledgment code) and MSA-2 (the control id it answers) of an ACK. */
    record Ack(String code, String controlId) { }

    /**
     * MSA-1 and MSA-2 of an ER7 ACK, as HAPI's Terser reads them (first repetition, first component),
     * without building HAPI's model; null when the text is no ACK (no MSH, no MSA segment, or no MSA-1).
     * Segments end in CR; LF and CRLF are tolerated.
     */
    static Ack ack(String text) {
        if (text == null || text.length() < 8 || !text.startsWith("MSH")) {
            return null;
        }
        char field = text.charAt(3);
        int encodingEnd = text.indexOf(field, 4);
        String encoding = text.substring(4, encodingEnd < 0 ? Math.min(text.length(), 8) : encodingEnd);
        for (int start = 0; start < text.length(); ) {
            int end = segmentEnd(text, start);
            if (end - start > 4 && text.startsWith("MSA", start) && text.charAt(start + 3) == field) {
                String[] fields = fields(text.substring(start + 4, end), field, 2);
                String code = firstComponent(fields[0], encoding);
                return code.isEmpty() ? null : new Ack(code, firstComponent(fields[1], encoding));
            }
            start = end + 1;
        }
        return null;
    }

    /**
     * MSH-10 of an ER7 message, as intake reads it ({@link Hl7Header}), or null when it has none.
     * Payloads renders it {@code "SH" + outbox id}: an ACK counts only when its MSA-2 equals it.
     */
    static String controlId(String er7) {
        Hl7Header header = Hl7Header.read(er7);
        return header == null ? null : header.controlId();
    }

    private static int segmentEnd(String text, int from) {
        for (int i = from; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\r' || c == '\n') {
                return i;
            }
        }
        return text.length();
    }

    /** The first {@code n} fields of a segment's rest, "" for those it does not have. */
    private static String[] fields(String rest, char separator, int n) {
        String[] fields = new String[n];
        int from = 0;
        for (int i = 0; i < n; i++) {
            if (from > rest.length()) {
                fields[i] = "";
                continue;
            }
            int to = rest.indexOf(separator, from);
            if (to < 0) {
                to = rest.length();
            }
            fields[i] = rest.substring(from, to);
            from = to + 1;
        }
        return fields;
    }

    /** A field's first repetition's first component's first subcomponent. */
    private static String firstComponent(String value, String encoding) {
        int end = value.length();
        for (int i = 0; i < encoding.length(); i++) {
            char c = encoding.charAt(i);
            if (i == 2) { // the escape character does not split a value
                continue;
            }
            int at = value.indexOf(c);
            if (at >= 0 && at < end) {
                end = at;
            }
        }
        return value.substring(0, end);
    }

    /** The connection ended before any byte of an answer, on a connection that had sat idle in the pool. */
    private static final class StaleConnection extends IOException {
        StaleConnection(IOException cause) {
            super(cause);
        }
    }

    /** One pooled connection with HAPI's MLLP writer and reader on it (the reader buffers: one per connection). */
    private static final class Link {
        private final Socket socket;
        private final AnswerInput in;
        private final MinLLPWriter writer;
        private final MinLLPReader reader;
        /** When it was last put back in the pool (System.nanoTime). */
        private long idleSince;
        /** Whether the last answer was read exactly, with nothing more read or waiting (see {@link #drained}). */
        private boolean inStep;

        Link(Socket socket) throws IOException {
            this.socket = socket;
            this.in = new AnswerInput(socket);
            // UTF-8 both ways: the DFT says so in MSH-18, and MSA-1/MSA-2 are ASCII in any ACK;
            // the BOM is omitted, as HAPI's initiator did not send one
            this.writer = new MinLLPWriter(socket.getOutputStream(), StandardCharsets.UTF_8, true);
            this.reader = new MinLLPReader(in, StandardCharsets.UTF_8);
        }

        /**
         * Sends one message and reads one answer, all before the deadline: null when none came in time
         * (HAPI's reader answers a read timeout with null). {@link StaleConnection} when this connection
         * had been used before and ended before a byte of the answer arrived.
         */
        Ack exchange(String er7, long deadline) throws IOException, LLPException {
            socket.setSoTimeout(remainingMillis(deadline));
            long received = in.count;
            boolean reused = received > 0;
            try {
                writer.writeMessage(er7);
            } catch (IOException e) {
                throw reused ? new StaleConnection(e) : e;
            }
            String answer;
            in.expect(deadline);
            try {
                answer = reader.getMessage();
            } catch (SocketException e) { // a reset, or HAPI's end of stream before a frame starts
                throw reused && in.count == received ? new StaleConnection(e) : e;
            }
            // the frame exactly (start byte, text, end bytes) and nothing behind it
            inStep = answer != null && in.count - received == answer.getBytes(StandardCharsets.UTF_8).length + 3L
                    && in.available() == 0;
            return ack(answer);
        }

        /**
         * Whether the last answer was read exactly, frame and all, with nothing more read or waiting:
         * only then does the next exchange start in step.
         */
        boolean drained() {
            return inStep;
        }

        void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // closing a connection we give up on: nothing more to do
            }
        }
    }

    /**
     * The socket's input as HAPI's reader sees it: each read waits at most until the exchange's deadline
     * (a socket timeout alone restarts with every byte), an answer longer than {@link #MAX_ANSWER_BYTES}
     * is cut off, and the bytes read are counted, so an end of stream can be told apart from a cut answer.
     */
    private static final class AnswerInput extends FilterInputStream {
        private final Socket socket;
        /** Read by the thread that holds the connection only (the pool's deque hands it over). */
        private long count;
        private long deadline;
        private long limit;

        AnswerInput(Socket socket) throws IOException {
            super(socket.getInputStream());
            this.socket = socket;
        }

        void expect(long deadline) {
            this.deadline = deadline;
            this.limit = count + MAX_ANSWER_BYTES;
        }

        private void beforeRead() throws IOException {
            if (count >= limit) {
                throw new AnswerTooLong();
            }
            socket.setSoTimeout(remainingMillis(deadline));
        }

        @Override
        public int read() throws IOException {
            beforeRead();
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            beforeRead();
            int n = super.read(b, off, (int) Math.min(len, limit - count));
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }

    /** More bytes than any ACK without its end: the connection is given up. */
    private static final class AnswerTooLong extends IOException {
        AnswerTooLong() {
            super("an answer longer than " + MAX_ANSWER_BYTES + " bytes");
        }
    }
}
