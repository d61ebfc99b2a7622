package org.supplyhub.delivery;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A measuring tool, not a test: where the execution samples of a JFR recording fall. Prints the
 * share of samples whose stack holds each method (inclusive, once per sample) for the hub's own
 * methods and a few library entry points, and the top self frames.
 * <pre>java -cp … org.supplyhub.delivery.JfrTop recording.jfr [thread-name-prefix]</pre>
 */
public final class JfrTop {

    private JfrTop() {
    }

    public static void main(String[] args) throws Exception {
        String threadPrefix = args.length > 1 ? args[1] : null;
        Map<String, Integer> inclusive = new HashMap<>();
        Map<String, Integer> self = new HashMap<>();
        Map<String, Integer> threads = new HashMap<>();
        int total = 0;
        for (RecordedEvent e : RecordingFile.readAllEvents(Path.of(args[0]))) {
            if (!e.getEventType().getName().equals("jdk.ExecutionSample") || e.getStackTrace() == null) {
                continue;
            }
            String thread = e.getThread("sampledThread") == null ? "?" : e.getThread("sampledThread").getJavaName();
            if (threadPrefix != null && (thread == null || !thread.startsWith(threadPrefix))) {
                continue;
            }
            total++;
            threads.merge(thread == null ? "?" : thread.replaceAll("-?\\d+$", ""), 1, Integer::sum);
            List<RecordedFrame> frames = e.getStackTrace().getFrames();
            if (!frames.isEmpty()) {
                self.merge(name(frames.get(0)), 1, Integer::sum);
            }
            Set<String> seen = new HashSet<>();
            for (RecordedFrame f : frames) {
                String n = name(f);
                if (seen.add(n)) {
                    inclusive.merge(n, 1, Integer::sum);
                }
            }
        }
        System.out.println("samples " + total);
        print("threads", threads, total, 15, null);
        print("inclusive (hub + key libraries)", inclusive, total, 70,
                n -> n.startsWith("org.supplyhub") || n.startsWith("ca.uhn.hl7v2.parser.PipeParser.encode")
                        || n.startsWith("ca.uhn.hl7v2.util.Terser.set") || n.contains("createTempFile")
                        || n.startsWith("java.nio.file.Files.move") || n.startsWith("java.nio.file.Files.write")
                        || n.contains("ObjectMapper.readValue") || n.contains("ObjectMapper.writeValueAsBytes")
                        || n.startsWith("org.postgresql.jdbc.PgPreparedStatement.execute")
                        || n.startsWith("com.zaxxer.hikari.HikariDataSource.getConnection")
                        || n.startsWith("javax.crypto.Cipher.doFinal") || n.startsWith("org.apache.camel")
                        && n.contains("TimerConsumer"));
        print("self", self, total, 40, null);
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }

    private static void print(String title, Map<String, Integer> counts, int total, int top,
                              java.util.function.Predicate<String> keep) {
        System.out.println("--- " + title);
        counts.entrySet().stream().filter(en -> keep == null || keep.test(en.getKey()))
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed()).limit(top)
                .forEach(en -> System.out.printf("%6.1f%%  %6d  %s%n", 100.0 * en.getValue() / total, en.getValue(),
                        en.getKey()));
    }
}
