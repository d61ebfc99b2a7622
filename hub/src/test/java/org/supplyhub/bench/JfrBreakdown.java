package org.supplyhub.bench;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedMethod;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a JFR recording's CPU samples ({@code jdk.ExecutionSample}) went: each sample is given to
 * the first frame, from the top of the stack, whose class belongs to a known category (HAPI FHIR,
 * HAPI HL7v2, the PostgreSQL driver, Hikari, Jackson, crypto, Netty, Camel, Micrometer, Spring, or
 * the hub's own code by package); a stack with none of them is "JDK/other". Also the methods most
 * sampled: the first hub frame of each stack, and the leaf frame.
 *
 * <pre>java -cp &lt;test classpath&gt; org.supplyhub.bench.JfrBreakdown recording.jfr</pre>
 */
public final class JfrBreakdown {

    /** Package prefix → category, in the order they are tried (more specific first). */
    private static final List<String[]> CATEGORIES = List.of(
            new String[] {"ca.uhn.fhir.", "HAPI FHIR"},
            new String[] {"org.hl7.fhir.", "HAPI FHIR"},
            new String[] {"ca.uhn.hl7v2.", "HAPI HL7v2"},
            new String[] {"org.postgresql.", "PostgreSQL driver"},
            new String[] {"com.zaxxer.hikari.", "Hikari"},
            new String[] {"com.fasterxml.jackson.", "Jackson"},
            new String[] {"javax.crypto.", "crypto"},
            new String[] {"com.sun.crypto.", "crypto"},
            new String[] {"sun.security.", "crypto"},
            new String[] {"io.netty.", "Netty"},
            new String[] {"org.apache.camel.", "Camel"},
            new String[] {"io.micrometer.", "Micrometer"},
            new String[] {"org.springframework.", "Spring"});

    private JfrBreakdown() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: JfrBreakdown <recording.jfr>");
            System.exit(2);
        }
        print(Path.of(args[0]), System.out);
    }

    /** The category of a class name: a known library, {@code hub <pkg>}, or null. */
    static String category(String className) {
        if (className.startsWith("org.supplyhub.")) {
            String rest = className.substring("org.supplyhub.".length());
            int dot = rest.indexOf('.');
            return "hub " + (dot < 0 ? "(root)" : rest.substring(0, dot));
        }
        for (String[] c : CATEGORIES) {
            if (className.startsWith(c[0])) {
                return c[1];
            }
        }
        return null;
    }

    static void print(Path recording, PrintStream out) throws IOException {
        Map<String, Integer> byCategory = new HashMap<>();
        Map<String, Integer> hubMethods = new HashMap<>();
        Map<String, Integer> leaves = new HashMap<>();
        Map<String, Integer> callers = new HashMap<>();
        int samples = 0;
        try (RecordingFile file = new RecordingFile(recording)) {
            while (file.hasMoreEvents()) {
                RecordedEvent event = file.readEvent();
                if (!"jdk.ExecutionSample".equals(event.getEventType().getName())) {
                    continue;
                }
                RecordedStackTrace stack = event.getStackTrace();
                if (stack == null || stack.getFrames().isEmpty()) {
                    continue;
                }
                samples++;
                List<RecordedFrame> frames = stack.getFrames(); // top (leaf) first
                leaves.merge(name(frames.get(0).getMethod()), 1, Integer::sum);
                String category = null;
                String hubMethod = null;
                String caller = null;
                for (RecordedFrame frame : frames) {
                    RecordedMethod m = frame.getMethod();
                    if (m == null) {
                        continue;
                    }
                    String c = category(m.getType().getName());
                    if (category == null && c != null) {
                        category = c;
                    } else if (caller == null && c != null && !c.equals(category)) {
                        caller = c; // who called into the category: Jackson under HAPI FHIR is FHIR encoding
                    }
                    if (hubMethod == null && m.getType().getName().startsWith("org.supplyhub.")) {
                        hubMethod = name(m);
                    }
                    if (category != null && caller != null && hubMethod != null) {
                        break;
                    }
                }
                byCategory.merge(category == null ? "JDK/other" : category, 1, Integer::sum);
                callers.merge((category == null ? "JDK/other" : category) + "  ← " + (caller == null ? "-" : caller), 1, Integer::sum);
                if (hubMethod != null) {
                    hubMethods.merge(hubMethod, 1, Integer::sum);
                }
            }
        }
        out.printf("JFR %s: %d execution samples%n", recording.getFileName(), samples);
        if (samples == 0) {
            return;
        }
        out.println("  by category (first known frame from the top of each stack):");
        top(byCategory, Integer.MAX_VALUE, samples, out);
        out.println("  the same by caller (category ← the next other category below it on the stack), top 15:");
        top(callers, 15, samples, out);
        out.println("  top 15 hub methods (first org.supplyhub frame from the top; share of all samples):");
        top(hubMethods, 15, samples, out);
        out.println("  top 15 leaf methods:");
        top(leaves, 15, samples, out);
    }

    private static void top(Map<String, Integer> counts, int limit, int total, PrintStream out) {
        counts.entrySet().stream()
                .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                .limit(limit)
                .forEach(e -> out.printf("    %5.1f %%  %6d  %s%n", 100.0 * e.getValue() / total, e.getValue(), e.getKey()));
    }

    private static String name(RecordedMethod m) {
        return m == null ? "(unknown)" : m.getType().getName() + "." + m.getName();
    }
}
