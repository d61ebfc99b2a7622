package org.supplyhub.ops;

import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * An EHR's OR manager sending unique Mercy DFT^P03 messages over K MLLP connections at a steady rate,
 * one message in flight per connection, and resending anything not answered AA — no ACK in time,
 * connection closed, AE with ERR-3 207 ("resend later") — with the same control id and the same
 * bytes until it is, as real senders do. An AR or an AE for any other reason is an anomaly: recorded,
 * resent a few times, then given up (the message then counts as unacknowledged).
 * <p>
 * Message n of a campaign tagged T has MSH-10 {@code FC<T>-<n>}, FT1-2 {@code TX-<T>-<n>-<line>} and
 * implant serial {@code S<T>N<n>} (in ZIM-4 and the UDI), and one of 200 accounts.
 */
public final class LoadSender implements AutoCloseable {

    public record Options(String host, int port, int connections, double perSecond, String tag, Duration ackTimeout,
                          long firstSequence) {
    }

    public record Anomaly(String controlId, String ackCode, String error) {
    }

    private static final int MAX_ANOMALIES_PER_MESSAGE = 3;
    /** The Mercy sample, from the test classpath (so the sender runs from any directory). */
    private static final String BASE = sample();

    private final Options options;
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicLong nextSlot = new AtomicLong(System.nanoTime());
    private final long intervalNanos;
    private volatile boolean offering = true;
    private volatile boolean stopped;

    public final AtomicLong offered = new AtomicLong();
    public final AtomicLong sends = new AtomicLong();
    public final AtomicLong resends = new AtomicLong();
    public final AtomicLong resendLater207 = new AtomicLong();
    public final Set<String> acked = ConcurrentHashMap.newKeySet();
    public final Set<String> givenUp = ConcurrentHashMap.newKeySet();
    public final List<Anomaly> anomalies = java.util.Collections.synchronizedList(new ArrayList<>());
    /** Control id → its message, for every message offered (the tally reads its transaction ids). */
    private final Map<String, Boolean> inFlight = new ConcurrentHashMap<>();

    public LoadSender(Options options) {
        this.options = options;
        this.intervalNanos = (long) (1e9 / options.perSecond());
        this.sequence.set(options.firstSequence());
    }

    private static String sample() {
        try (var in = LoadSender.class.getResourceAsStream("/samples/" + Samples.MERCY)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("\n", "");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    public static String controlId(String tag, long n) {
        return "FC" + tag + "-" + n;
    }

    /** The n-th message of campaign {@code tag}: the Mercy sample with its own ids. */
    public static String message(String tag, long n) {
        String m = Samples.withControlId(BASE, controlId(tag, n));
        String serial = "S" + tag + "N" + n;
        StringBuilder out = new StringBuilder();
        for (String segment : m.split("\r")) {
            String[] f = segment.split("\\|", -1);
            switch (f[0]) {
                case "PID" -> f[18] = "ACCT" + tag + (n % 200) + "^^^MERCY^AN";
                case "FT1" -> f[2] = "TX-" + tag + "-" + n + "-" + f[1];
                case "ZIM" -> {
                    f[2] = f[2].replace("(21)" + f[4], "(21)" + serial);
                    f[4] = serial;
                }
                default -> { }
            }
            out.append(String.join("|", f)).append('\r');
        }
        return out.toString();
    }

    public void start() {
        for (int i = 0; i < options.connections(); i++) {
            Thread t = new Thread(this::run, "ehr-" + i);
            t.setDaemon(true);
            workers.add(t);
            t.start();
        }
    }

    /** No new messages from now on; what is in flight is still resent until AA. */
    public void stopOffering() {
        offering = false;
    }

    /** Waits until every offered message is answered AA (or given up); false on timeout. */
    public boolean awaitSettled(Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        for (Thread t : workers) {
            t.join(Math.max(1, (end - System.nanoTime()) / 1_000_000));
        }
        return workers.stream().noneMatch(Thread::isAlive);
    }

    public Set<String> unanswered() {
        Set<String> open = ConcurrentHashMap.newKeySet();
        inFlight.keySet().stream().filter(id -> !acked.contains(id)).forEach(open::add);
        return open;
    }

    private String nextNew() {
        if (!offering) {
            return null;
        }
        long slot = nextSlot.getAndAdd(intervalNanos);
        long now = System.nanoTime();
        if (slot < now - 1_000_000_000L) { // behind by more than a second (an outage): no burst to catch up
            nextSlot.compareAndSet(slot + intervalNanos, now + intervalNanos);
            slot = now;
        }
        while (System.nanoTime() < slot) {
            LockSupport.parkNanos(slot - System.nanoTime());
        }
        if (!offering) {
            return null;
        }
        long n = sequence.incrementAndGet();
        offered.incrementAndGet();
        inFlight.put(controlId(options.tag(), n), Boolean.TRUE);
        return message(options.tag(), n);
    }

    private void run() {
        Socket socket = null;
        Mllp mllp = null;
        String current = null;
        int anomaliesOfCurrent = 0;
        boolean sentCurrent = false;
        while (!stopped) {
            if (current == null) {
                current = nextNew();
                anomaliesOfCurrent = 0;
                sentCurrent = false;
                if (current == null) {
                    break;
                }
            }
            String controlId = Samples.controlId(current);
            String ack;
            try {
                if (mllp == null) {
                    socket = new Socket();
                    socket.connect(new InetSocketAddress(options.host(), options.port()), 2000);
                    mllp = new Mllp(socket);
                    socket.setSoTimeout((int) options.ackTimeout().toMillis());
                }
                sends.incrementAndGet();
                if (sentCurrent) {
                    resends.incrementAndGet();
                }
                sentCurrent = true;
                ack = mllp.send(current, StandardCharsets.UTF_8);
                if (ack == null) {
                    throw new IOException("closed");
                }
            } catch (IOException e) { // refused, closed, no ACK in time: resend the same bytes
                closeQuietly(socket);
                mllp = null;
                sleep(300);
                continue;
            }
            String code = ackCode(ack);
            if ("AA".equals(code)) {
                acked.add(controlId);
                current = null;
            } else if ("AE".equals(code) && "207".equals(errorCode(ack))) {
                resendLater207.incrementAndGet();
                sleep(1000);
            } else {
                anomalies.add(new Anomaly(controlId, code, errorCode(ack)));
                if (++anomaliesOfCurrent >= MAX_ANOMALIES_PER_MESSAGE) {
                    givenUp.add(controlId);
                    current = null;
                } else {
                    sleep(1000);
                }
            }
        }
        closeQuietly(socket);
    }

    /** {@code LoadSender --port P [--rate 15] [--seconds 10] [--connections 4] [--tag t1]}: sends, settles, prints. */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new java.util.HashMap<>(Map.of("rate", "15", "seconds", "10", "connections", "4",
                "tag", "m" + (System.currentTimeMillis() / 1000 % 100000), "host", "127.0.0.1"));
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        try (LoadSender s = new LoadSender(new Options(a.get("host"), Integer.parseInt(a.get("port")),
                Integer.parseInt(a.get("connections")), Double.parseDouble(a.get("rate")), a.get("tag"),
                Duration.ofSeconds(15), 0))) {
            s.start();
            Thread.sleep(Long.parseLong(a.get("seconds")) * 1000);
            s.stopOffering();
            boolean settled = s.awaitSettled(Duration.ofMinutes(2));
            System.out.printf("tag %s: offered %d, AA %d, sends %d, resends %d (207: %d), anomalies %s, settled %s%n",
                    a.get("tag"), s.offered.get(), s.acked.size(), s.sends.get(), s.resends.get(), s.resendLater207.get(),
                    s.anomalies, settled);
        }
    }

    static String ackCode(String ack) {
        for (String segment : ack.split("[\r\n]+")) {
            if (segment.startsWith("MSA|")) {
                return segment.split("\\|", -1)[1];
            }
        }
        return "?";
    }

    /** ERR-3's code (v2.5+), or "" when there is no ERR. */
    static String errorCode(String ack) {
        for (String segment : ack.split("[\r\n]+")) {
            if (segment.startsWith("ERR|")) {
                String[] f = segment.split("\\|", -1);
                return f.length > 3 ? f[3].split("\\^", -1)[0] : "";
            }
        }
        return "";
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // gone already
            }
        }
    }

    @Override
    public void close() throws InterruptedException {
        stopped = true;
        offering = false;
        for (Thread t : workers) {
            t.join(5000);
        }
    }
}
