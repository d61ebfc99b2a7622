package org.supplyhub.support;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polls a condition that another thread (a delivery worker, an audit write) makes true. */
public final class Await {

    private Await() { }

    public static void until(BooleanSupplier condition) throws InterruptedException {
        until(condition, 20);
    }

    public static void until(BooleanSupplier condition, int seconds) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("condition not met within " + seconds + " s");
            }
            Thread.sleep(50);
        }
    }
}
