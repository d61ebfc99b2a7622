package org.supplyhub.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time used by the parts of a benchmark run (Linux {@code /proc}): the hub's JVM, this JVM
 * (load generator and receivers) and the PostgreSQL server processes. It tells where a machine
 * whose cores are all busy spends them.
 */
final class CpuTime {

    /** Linux reports utime and stime in clock ticks of 1/100 s on every common kernel. */
    private static final double MS_PER_TICK = 10.0;

    private CpuTime() {
    }

    /** CPU milliseconds so far, by part. */
    static Map<String, Double> snapshot(long hubPid) {
        Map<String, Double> ms = new LinkedHashMap<>();
        ms.put("hub", ticks(hubPid) * MS_PER_TICK);
        ms.put("receivers + load", ticks(ProcessHandle.current().pid()) * MS_PER_TICK);
        double postgres = 0;
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (name.chars().allMatch(Character::isDigit) && "postgres".equals(comm(p))) {
                    postgres += ticks(Long.parseLong(name)) * MS_PER_TICK;
                }
            }
        } catch (IOException e) {
            return Map.of();
        }
        ms.put("PostgreSQL", postgres);
        return ms;
    }

    /** What each part spent between two snapshots, per message. */
    static String perMessage(Map<String, Double> before, Map<String, Double> after, int messages) {
        if (before.isEmpty() || after.isEmpty()) {
            return "(no /proc here)";
        }
        StringBuilder out = new StringBuilder();
        double total = 0;
        for (String part : after.keySet()) {
            // PostgreSQL backends that ended in between take their time with them: never below zero
            double ms = Math.max(0, after.get(part) - before.getOrDefault(part, 0.0)) / messages;
            total += ms;
            out.append(String.format("%s %.2f  ", part, ms));
        }
        return out.append(String.format("total %.2f CPU ms per message", total)).toString();
    }

    private static long ticks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    private static String comm(Path proc) {
        try {
            return Files.readString(proc.resolve("comm")).trim();
        } catch (IOException e) {
            return "";
        }
    }
}
