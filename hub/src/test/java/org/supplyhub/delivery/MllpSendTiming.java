package org.supplyhub.delivery;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.Connection;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import org.supplyhub.config.ConnectorKind;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.support.Samples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * What billing over MLLP costs the hub per message, render and send (a command, not a test): HAPI's
 * DFT model sent through HAPI's initiator, as the hub did before (its connection reader thread
 * included), against {@link Payloads#render}'s ER7 bytes sent by {@link MllpConnector}. The receiver
 * is an ACKing MLLP server in this JVM on its own threads, which are not counted. Each round runs
 * both cases one after the other; medians of the rounds after two warm-up rounds, of the sending
 * thread's CPU and of every thread's but the receiver's.
 *
 * <pre>java -cp hub/target/test-classes:hub/target/classes:$(cat cp.txt) org.supplyhub.delivery.MllpSendTiming [messages] [rounds]</pre>
 */
public final class MllpSendTiming {

    private static final String RECEIVER = "timing-receiver";

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 9;
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread acceptor = new Thread(() -> accept(server), RECEIVER);
            acceptor.setDaemon(true);
            acceptor.start();

            Hl7Support hl7 = new Hl7Support();
            Payloads payloads = new Payloads(hl7, PayloadsTest.JSON);
            SupplyUsage usage = PayloadsTest.journaled(Samples.read(Samples.MERCY));
            DestinationDefinition file = PayloadsTest.CATALOG.destination("mercy-billing");
            DestinationDefinition d = new DestinationDefinition(file.name(), file.file(), ConnectorKind.MLLP,
                    file.output(), null, URI.create("mllp://127.0.0.1:" + server.getLocalPort()), file.timeout(),
                    file.format(), file.maxAttempts(), file.maxAge(), file.initialBackoff(), file.maxBackoff(),
                    file.pollInterval(), file.lease(), file.batchSize(), null, false, file.receiver());
            List<Line> lines = usage.lines().stream().filter(Line::chargeable).toList();

            // before: the connector as it was (HAPI's shared client connection and its reader thread)
            HapiContext hapi = new DefaultHapiContext();
            hapi.setValidationContext(ValidationContextFactory.noValidation());
            Work before = id -> {
                Message dft = payloads.billingDft(d, id, usage, lines);
                Connection c = hapi.newClient(d.url().getHost(), d.url().getPort(), false);
                c.getInitiator().setTimeout(d.timeout().toMillis(), TimeUnit.MILLISECONDS);
                String code = new Terser(c.getInitiator().sendAndReceive(dft)).get("/MSA-1");
                return code.length();
            };
            MllpConnector mllp = new MllpConnector(8);
            Work now = id -> mllp.send(d, payloads.render(d, id, 3, usage, List.of())).length();

            System.out.printf("Billing over MLLP, Mercy sample (%d FT1), %d messages a round, %d rounds%n",
                    lines.size(), n, rounds);
            String[] names = {"before: HAPI billingDft + HAPI initiator", "now: Payloads.render + MllpConnector"};
            Work[] cases = {before, now};
            double[][] thread = new double[2][rounds];
            double[][] all = new double[2][rounds];
            long id = 1;
            for (int round = -2; round < rounds; round++) {
                for (int c = 0; c < cases.length; c++) {
                    double[] us = measure(cases[c], id, n);
                    id += n;
                    if (round >= 0) {
                        thread[c][round] = us[0];
                        all[c][round] = us[1];
                    }
                }
            }
            for (int c = 0; c < cases.length; c++) {
                System.out.printf("%-42s  sending thread median %6.1f µs (min %.1f, max %.1f);"
                                + " all hub-side threads median %6.1f µs (min %.1f, max %.1f) CPU per message%n",
                        names[c], median(thread[c]), min(thread[c]), max(thread[c]),
                        median(all[c]), min(all[c]), max(all[c]));
            }
            hapi.close();
            mllp.close();
        }
    }

    @FunctionalInterface
    interface Work {
        long run(long outboxId) throws Exception;
    }

    /** µs of CPU per message: of this thread, and of every live thread but the receiver's. */
    private static double[] measure(Work work, long firstId, int n) throws Exception {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        Map<Long, Long> start = others(cpu);
        long self = cpu.getCurrentThreadCpuTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
            sink += work.run(firstId + i);
        }
        long selfUsed = cpu.getCurrentThreadCpuTime() - self;
        long othersUsed = 0;
        for (Map.Entry<Long, Long> e : others(cpu).entrySet()) {
            othersUsed += e.getValue() - start.getOrDefault(e.getKey(), 0L);
        }
        if (sink == 42) {
            System.out.println();
        }
        return new double[] {selfUsed / 1000.0 / n, (selfUsed + othersUsed) / 1000.0 / n};
    }

    /** CPU ns of every live thread but this one and the receiver's. */
    private static Map<Long, Long> others(ThreadMXBean cpu) {
        Map<Long, Long> times = new HashMap<>();
        long me = Thread.currentThread().getId();
        for (java.lang.management.ThreadInfo t : cpu.getThreadInfo(cpu.getAllThreadIds())) {
            if (t == null || t.getThreadId() == me || t.getThreadName().startsWith(RECEIVER)) {
                continue;
            }
            long ns = cpu.getThreadCpuTime(t.getThreadId());
            if (ns > 0) {
                times.put(t.getThreadId(), ns);
            }
        }
        return times;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(0);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(0);
    }

    private static void accept(ServerSocket server) {
        int n = 0;
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                Thread t = new Thread(() -> answer(s), RECEIVER + "-" + ++n);
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    /** Answers every frame with an AA naming its MSH-10 in MSA-2. */
    private static void answer(Socket s) {
        try (s) {
            InputStream in = new java.io.BufferedInputStream(s.getInputStream());
            OutputStream out = s.getOutputStream();
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            while (true) {
                int b = in.read();
                if (b < 0) {
                    return;
                }
                if (b == 0x0b) {
                    frame.reset();
                } else if (b == 0x1c) {
                    in.read(); // CR
                    String text = frame.toString(StandardCharsets.UTF_8);
                    String id = text.substring(0, text.indexOf('\r')).split("\\|", -1)[9];
                    String ack = "\u000bMSH|^~\\&|PATACCT|MERCY|SUPPLYHUB|HUB|20261129120501||ACK^P03^ACK|A" + id
                            + "|P|2.5.1\rMSA|AA|" + id + "\r\u001c\r";
                    out.write(ack.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                } else {
                    frame.write(b);
                }
            }
        } catch (IOException e) {
            // the sender closed the connection
        }
    }
}
