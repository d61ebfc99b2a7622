package org.supplyhub.ingest;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory all MLLP connections together may hold in frames that have not ended yet
 * ({@code hub.mllp.max-buffered}). Each connection's {@link MllpFrameDecoder} counts the buffer its
 * unfinished frame sits in (capacity, not just the bytes: that is what is pinned) and asks for more
 * before it keeps a larger one; a frame that would take the total over the limit is refused and
 * discarded as it arrives, so one connection's greed never takes memory the others already hold.
 */
public final class UnfinishedFrameBudget {

    private final long limit;
    private final AtomicLong used = new AtomicLong();

    public UnfinishedFrameBudget(long limit) {
        this.limit = limit;
    }

    /** No limit (unit tests of the framing alone). */
    public static UnfinishedFrameBudget unlimited() {
        return new UnfinishedFrameBudget(Long.MAX_VALUE);
    }

    /** Moves a connection's share from {@code from} to {@code to} bytes if that stays within the limit. */
    boolean tryResize(long from, long to) {
        long delta = to - from;
        if (delta <= 0) {
            used.addAndGet(delta);
            return true;
        }
        while (true) {
            long now = used.get();
            if (now > limit - delta) {
                return false;
            }
            if (used.compareAndSet(now, now + delta)) {
                return true;
            }
        }
    }

    /** Moves a connection's share whatever the limit (what it already holds, or gives back). */
    void resize(long from, long to) {
        used.addAndGet(to - from);
    }

    public long used() {
        return used.get();
    }

    public long limit() {
        return limit;
    }
}
