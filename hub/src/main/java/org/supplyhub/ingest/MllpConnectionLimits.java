package org.supplyhub.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Caps the MLLP connections open at once: per listener ({@code maxConnections} of the interface) and
 * hub-wide ({@code hub.mllp.max-connections}). A connection over a cap is closed when it opens,
 * before a byte is read; the ones already open go on, and a slot freed by a close is taken by the
 * next connection. Refusals are counted ({@code hub_mllp_connections_refused_total{interface,reason}})
 * and logged at most once per {@link #LOG_EVERY} per interface and reason, with how many were not
 * logged: a flood of connections must not flood the log. camel-netty 4.17 has no such option
 * ({@code backlog} only sizes the kernel's accept queue), hence this handler, the first of the
 * listener's {@code decoders} after the source filter.
 */
@ChannelHandler.Sharable
public final class MllpConnectionLimits extends ChannelInboundHandlerAdapter {

    private static final Logger log = LoggerFactory.getLogger(MllpConnectionLimits.class);
    static final Duration LOG_EVERY = Duration.ofSeconds(10);
    private static final AttributeKey<AtomicInteger> SLOT = AttributeKey.valueOf("supplyhub.mllp.connectionSlot");

    private final int maxTotal;
    private final MllpListeners listeners;
    private final MeterRegistry meters;
    private final AtomicInteger total = new AtomicInteger();
    private final Map<String, AtomicInteger> open = new ConcurrentHashMap<>();
    private final Map<String, Throttle> throttles = new ConcurrentHashMap<>();

    public MllpConnectionLimits(int maxTotal, MllpListeners listeners, MeterRegistry meters) {
        this.maxTotal = maxTotal;
        this.listeners = listeners;
        this.meters = meters;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        MllpListeners.Listener listener = listeners.of(ctx.channel());
        AtomicInteger mine = open(listener.interfaceId());
        if (!acquire(total, maxTotal)) {
            refuse(ctx, listener.interfaceId(), "total", maxTotal + " MLLP connections open in the hub (hub.mllp.max-connections)");
        } else if (!acquire(mine, listener.maxConnections())) {
            total.decrementAndGet();
            refuse(ctx, listener.interfaceId(), "listener", listener.maxConnections()
                    + " connections open on this listener (maxConnections)");
        } else {
            ctx.channel().attr(SLOT).set(mine);
            super.channelActive(ctx);
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        AtomicInteger mine = ctx.channel().attr(SLOT).getAndSet(null);
        if (mine != null) {
            mine.decrementAndGet();
            total.decrementAndGet();
        }
        super.channelInactive(ctx);
    }

    /** Connections open now on an interface's listener. */
    public int openOn(String interfaceId) {
        AtomicInteger n = open.get(interfaceId);
        return n == null ? 0 : n.get();
    }

    /** Connections open now, all listeners. */
    public int openTotal() {
        return total.get();
    }

    private AtomicInteger open(String interfaceId) {
        return open.computeIfAbsent(interfaceId, id -> {
            AtomicInteger n = new AtomicInteger();
            Gauge.builder("hub.mllp.connections.open", n, AtomicInteger::get).tag("interface", id)
                    .description("MLLP connections open on the interface's listener").register(meters);
            return n;
        });
    }

    private static boolean acquire(AtomicInteger count, int max) {
        while (true) {
            int now = count.get();
            if (now >= max) {
                return false;
            }
            if (count.compareAndSet(now, now + 1)) {
                return true;
            }
        }
    }

    private void refuse(ChannelHandlerContext ctx, String interfaceId, String reason, String why) {
        Counter.builder("hub.mllp.connections.refused").tag("interface", interfaceId).tag("reason", reason)
                .description("MLLP connections closed at once because a connection cap was reached")
                .register(meters).increment();
        long skipped = throttles.computeIfAbsent(interfaceId + "/" + reason, k -> new Throttle()).pass();
        if (skipped >= 0) {
            String peer = ctx.channel().remoteAddress() instanceof InetSocketAddress remote
                    ? remote.getAddress().getHostAddress() : String.valueOf(ctx.channel().remoteAddress());
            log.warn("Interface {}: MLLP connection from {} refused: {}{}", interfaceId, peer, why,
                    skipped == 0 ? "" : "; " + skipped + " more refused since the last such line");
        }
        ctx.close(); // instead of passing channelActive on: nothing is read from it
    }

    /** Lets one line through per {@link #LOG_EVERY}; counts the others. */
    private static final class Throttle {
        private final AtomicLong next = new AtomicLong(System.nanoTime());
        private final AtomicLong skipped = new AtomicLong();

        /** The number of refusals not logged since the last line if this one may log, else -1. */
        long pass() {
            long now = System.nanoTime();
            long due = next.get();
            if (now - due >= 0 && next.compareAndSet(due, now + LOG_EVERY.toNanos())) {
                return skipped.getAndSet(0);
            }
            skipped.incrementAndGet();
            return -1;
        }
    }
}
