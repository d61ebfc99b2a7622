package org.supplyhub.support;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.Arrays;
import java.util.List;

/**
 * The timing commands' measure (RenderCostBenchmark, BillingDftTiming, FhirJsonWriterBenchmark,
 * IntakeStageCost): CPU time of the measuring thread per call, robust to a machine whose other cores
 * are busy, as the median of rounds run after warm-up rounds.
 */
public final class CpuCases {

    private CpuCases() {
    }

    /** One unit of work; its result is summed, so the JIT cannot drop the call. */
    @FunctionalInterface
    public interface Work {
        long run() throws Exception;
    }

    public record Case(String name, Work work) { }

    /** Runs every case {@code n} times a round, {@code warmupRounds} rounds first; prints each one's median µs. */
    public static void printMedians(List<Case> cases, int n, int rounds, int warmupRounds) throws Exception {
        double[][] perRound = new double[cases.size()][rounds];
        for (int round = -warmupRounds; round < rounds; round++) {
            for (int c = 0; c < cases.size(); c++) {
                double us = micros(cases.get(c).work(), n);
                if (round >= 0) {
                    perRound[c][round] = us;
                }
            }
        }
        int width = cases.stream().mapToInt(c -> c.name().length()).max().orElse(0);
        for (int c = 0; c < cases.size(); c++) {
            double[] sorted = perRound[c].clone();
            Arrays.sort(sorted);
            System.out.printf("%-" + width + "s  median %7.1f µs CPU per message (min %.1f, max %.1f)%n", cases.get(c).name(),
                    sorted[sorted.length / 2], sorted[0], sorted[sorted.length - 1]);
        }
    }

    /** CPU µs of this thread per run of {@code work}, over {@code n} runs. */
    public static double micros(Work work, int n) throws Exception {
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        long start = cpu.getCurrentThreadCpuTime();
        long sink = 0;
        for (int i = 0; i < n; i++) {
            sink += work.run();
        }
        long used = cpu.getCurrentThreadCpuTime() - start;
        if (sink == 42) {
            System.out.println();
        }
        return used / 1000.0 / n;
    }
}
