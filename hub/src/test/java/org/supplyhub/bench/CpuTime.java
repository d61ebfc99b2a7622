package org.supplyhub.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * CPU time used by the parts of a benchmark run, read from Linux {@code /proc}: a JVM (hub, bare
 * server, receivers), this JVM (the load generator) and PostgreSQL. On a machine whose cores are all
 * busy, CPU per message says more than msg/s.
 *
 * <p>PostgreSQL serves other users on a shared machine, so its time is split: the backends of the
 * hub (found in {@code pg_stat_activity} by the {@code ApplicationName} the benchmark gives the hub's
 * JDBC URL) and the server's background processes (WAL writer, checkpointer…), which work for every
 * client and are reported apart. Without a database to ask, every {@code postgres} process counts.
 */
final class CpuTime {

    /** Linux reports utime and stime in clock ticks of 1/100 s on every common kernel. */
    private static final double MS_PER_TICK = 10.0;

    private CpuTime() {
    }

    /** A part of the run: a name and the processes whose CPU it sums. */
    record Part(String name, Collection<Long> pids) {
        static Part of(String name, long... pids) {
            return new Part(name, java.util.Arrays.stream(pids).boxed().toList());
        }
    }

    /** CPU milliseconds so far, by part. */
    static Map<String, Double> snapshot(List<Part> parts) {
        Map<String, Double> ms = new LinkedHashMap<>();
        for (Part part : parts) {
            double sum = 0;
            for (long pid : part.pids()) {
                sum += ticks(pid) * MS_PER_TICK;
            }
            ms.put(part.name(), sum);
        }
        return ms;
    }

    /** This JVM: the load generator. */
    static Part load() {
        return Part.of("load generator", ProcessHandle.current().pid());
    }

    /**
     * PostgreSQL as two parts: the backends whose application_name is {@code applicationName}, and
     * the server's background processes. Backends are looked up now: call it after the pool is full
     * (the hub keeps its connections). If the database cannot be asked, every postgres process.
     */
    static List<Part> postgres(String jdbcUrl, String user, String password, String applicationName) {
        Set<Long> own = new HashSet<>();
        Set<Long> background = new HashSet<>();
        try (Connection c = DriverManager.getConnection(jdbcUrl, user, password);
             ResultSet rs = c.createStatement().executeQuery(
                     "select pid, backend_type, application_name from pg_stat_activity where pid <> pg_backend_pid()")) {
            while (rs.next()) {
                if (applicationName.equals(rs.getString(3))) {
                    own.add(rs.getLong(1));
                } else if (!"client backend".equals(rs.getString(2))) {
                    background.add(rs.getLong(1));
                }
            }
        } catch (SQLException e) {
            return List.of(new Part("PostgreSQL (all)", allPostgres()));
        }
        if (own.stream().noneMatch(pid -> Files.exists(Path.of("/proc", String.valueOf(pid))))) {
            return List.of(new Part("PostgreSQL (all)", allPostgres())); // a server in a container: pids of another namespace
        }
        return List.of(new Part("PostgreSQL", own), new Part("PostgreSQL background", background));
    }

    static List<Long> allPostgres() {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.map(p -> p.getFileName().toString())
                    .filter(n -> n.chars().allMatch(Character::isDigit))
                    .filter(n -> "postgres".equals(comm(Path.of("/proc", n))))
                    .map(Long::parseLong).toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** What each part spent between two snapshots, in ms per message. */
    static Map<String, Double> perMessage(Map<String, Double> before, Map<String, Double> after, long messages) {
        Map<String, Double> per = new LinkedHashMap<>();
        // a process that ended in between takes its time with them: never below zero
        after.forEach((part, ms) -> per.put(part, Math.max(0, ms - before.getOrDefault(part, 0.0)) / Math.max(1, messages)));
        return per;
    }

    static String format(Map<String, Double> perMessage) {
        if (perMessage.values().stream().allMatch(v -> v == 0)) {
            return "(no /proc here)";
        }
        StringBuilder out = new StringBuilder();
        perMessage.forEach((part, ms) -> out.append(String.format("%s %.3f  ", part, ms)));
        return out.append("CPU ms per message").toString();
    }

    /**
     * CPU milliseconds so far of one process's threads, grouped by thread name with digits folded
     * ({@code GC Thread#1} and {@code GC Thread#0} are one group): what GC, the JIT and each pool cost.
     * Linux keeps 15 characters of a thread's name. A thread that ended takes its time with it.
     */
    static Map<String, Double> threads(long pid) {
        Map<String, Double> ms = new java.util.TreeMap<>();
        try (Stream<Path> tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path task : tasks.toList()) {
                String group = comm(task).replaceAll("[0-9]+", "#");
                ms.merge(group, ticks(task) * MS_PER_TICK, Double::sum);
            }
        } catch (IOException e) {
            return Map.of();
        }
        return ms;
    }

    /** The groups that spent most between two {@link #threads} snapshots, in ms per message. */
    static String topThreads(Map<String, Double> before, Map<String, Double> after, long messages, int top) {
        Map<String, Double> per = perMessage(before, after, messages);
        double sum = per.values().stream().mapToDouble(Double::doubleValue).sum();
        StringBuilder out = new StringBuilder();
        per.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).limit(top)
                .forEach(e -> out.append(String.format("%s %.3f (%.0f%%)  ", e.getKey(), e.getValue(), 100 * e.getValue() / sum)));
        return out.toString().trim();
    }

    static boolean available() {
        return Files.isReadable(Path.of("/proc/self/stat"));
    }

    private static long ticks(long pid) {
        return ticks(Path.of("/proc", String.valueOf(pid)));
    }

    private static long ticks(Path proc) {
        try {
            String stat = Files.readString(proc.resolve("stat"));
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
