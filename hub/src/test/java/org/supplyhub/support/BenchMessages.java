package org.supplyhub.support;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The measuring tools' load (IntakeBenchmark, IntakeCpuHarness, DeliveryProbe, PgCostProbe): Mercy
 * sample messages, each with its own control id, transaction ids and implant serial (a serial in every
 * message makes each implant check read all earlier reports of it), over 500 patient accounts.
 */
public final class BenchMessages {

    private static final String TEMPLATE = Samples.read(Samples.MERCY);

    private final String run = Long.toString(System.currentTimeMillis(), 36).toUpperCase();
    private final String prefix;
    private final AtomicLong sequence = new AtomicLong();

    /** {@code prefix}: the first letter of the control ids, telling one tool's messages from another's. */
    public BenchMessages(String prefix) {
        this.prefix = prefix;
    }

    /** The next message, with its own implant serial. */
    public String next() {
        return next(true);
    }

    /** The next message; {@code uniqueSerial} false keeps the sample's one serial in every message. */
    public String next(boolean uniqueSerial) {
        long n = sequence.incrementAndGet();
        String message = Samples.withControlId(TEMPLATE, prefix + run + "-" + n).replace("TX-88120-", "TX-" + run + n + "-")
                .replace("ACCT90017733", "ACCT" + (90_000_000 + n % 500));
        return uniqueSerial ? message.replace("SN00042519", "SN" + run + n) : message;
    }
}
