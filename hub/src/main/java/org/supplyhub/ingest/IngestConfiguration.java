package org.supplyhub.ingest;

import org.supplyhub.config.ConfigSnapshot;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.hl7.Hl7Support;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.NonStickyEventExecutorGroup;
import io.netty.util.concurrent.UnorderedThreadPoolEventExecutor;
import org.apache.camel.component.netty.NettyComponent;
import org.apache.camel.spi.ComponentCustomizer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.apache.camel.component.hl7.HL7MLLPNettyEncoderFactory;
import org.apache.camel.component.netty.ChannelHandlerFactory;
import org.apache.camel.component.netty.DefaultChannelHandlerFactory;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.unit.DataSize;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

@Configuration
public class IngestConfiguration {

    private static final Logger log = LoggerFactory.getLogger(IngestConfiguration.class);

    /** Where interfaces and mappings live, and the MLLP limits. */
    @ConfigurationProperties("hub")
    public record HubProperties(Path routesDir, Path mappingsDir, Mllp mllp, DataSize maxMessageSize) {
        public HubProperties {
            routesDir = routesDir == null ? Path.of("routes") : routesDir;
            mappingsDir = mappingsDir == null ? Path.of("mappings") : mappingsDir;
            mllp = mllp == null ? new Mllp(null, null, null, null, null) : mllp;
            maxMessageSize = maxMessageSize == null ? DataSize.ofMegabytes(1) : maxMessageSize;
        }

        /**
         * @param maxConnections MLLP connections open at once, all listeners (each listener also has
         *                       its {@code maxConnections}); 500: five times the per-listener default
         *                       of 100, far above the dozen-odd senders of a hospital, well below what
         *                       the file descriptors and threads allow
         * @param maxBuffered    memory all connections may hold in frames not ended yet; 64 MB: 64
         *                       frames of the 1 MB maximum arriving at once (a typical DFT is 2–20 KB
         *                       and arrives in one read, holding nothing), an eighth of a 512 MB heap,
         *                       the size of direct memory Netty may take by default
         * @param frameEndGrace  how long a frame's final FS waits for its CR before a strict listener
         *                       refuses the frame; 1 s: a CR split from its FS arrives within a round trip
         */
        public record Mllp(DataSize maxFrameSize, Duration idleTimeout, Integer maxConnections, DataSize maxBuffered,
                           Duration frameEndGrace) {
            public Mllp {
                maxFrameSize = maxFrameSize == null ? DataSize.ofMegabytes(1) : maxFrameSize;
                idleTimeout = idleTimeout == null ? Duration.ofMinutes(5) : idleTimeout;
                maxConnections = maxConnections == null ? 500 : maxConnections;
                maxBuffered = maxBuffered == null ? DataSize.ofMegabytes(64) : maxBuffered;
                frameEndGrace = frameEndGrace == null ? Duration.ofSeconds(1) : frameEndGrace;
                if (maxConnections < 1) {
                    throw new IllegalArgumentException("hub.mllp.max-connections must be at least 1 (got " + maxConnections + ")");
                }
                if (maxBuffered.compareTo(maxFrameSize) < 0) {
                    // else a frame of the allowed size that arrives in several reads could never be taken
                    throw new IllegalArgumentException("hub.mllp.max-buffered (" + maxBuffered
                            + ") must be at least hub.mllp.max-frame-size (" + maxFrameSize + ")");
                }
            }
        }
    }

    /** The set the hub starts on; live reload swaps in later ones. */
    @Bean
    RunningConfig runningConfig(HubProperties hub) {
        return new RunningConfig(ConfigSnapshot.load(hub.routesDir(), hub.mappingsDir()));
    }

    @Bean
    MllpListeners mllpListeners(RunningConfig running) {
        return new MllpListeners(running);
    }

    /** The hub-wide budget for unfinished MLLP frames ({@code hub.mllp.max-buffered}). */
    @Bean
    UnfinishedFrameBudget unfinishedFrameBudget(HubProperties hub, MeterRegistry meters) {
        UnfinishedFrameBudget budget = new UnfinishedFrameBudget(hub.mllp().maxBuffered().toBytes());
        Gauge.builder("hub.mllp.buffered", budget, UnfinishedFrameBudget::used).baseUnit("bytes")
                .description("memory MLLP connections hold in frames not ended yet").register(meters);
        return budget;
    }

    /**
     * {@code hub_ack_fallbacks_total{reason}}: ACKs HAPI's generateACK wrote because the direct builder
     * could not promise HAPI's bytes (zero in normal operation; a rise names the kind of message).
     */
    @Bean
    MeterBinder ackFallbackMeters(Hl7Support hl7) {
        return meters -> {
            for (Hl7Support.AckFallback reason : Hl7Support.AckFallback.values()) {
                FunctionCounter.builder("hub.ack.fallbacks", hl7,
                                h -> h.ackFallbacks().getOrDefault(reason, 0L))
                        .tag("reason", reason.name())
                        .description("ACKs written by HAPI's generateACK instead of the direct builder").register(meters);
            }
        };
    }

    /** The connection caps: a handler of the MLLP templates' {@code decoders} ({@code #mllpConnections}). */
    @Bean
    MllpConnectionLimits mllpConnections(HubProperties hub, MllpListeners listeners, MeterRegistry meters) {
        return new MllpConnectionLimits(hub.mllp().maxConnections(), listeners, meters);
    }

    @Bean
    ChannelHandlerFactory mllpFrameDecoder(HubProperties hub, MllpListeners listeners, UnfinishedFrameBudget budget) {
        int max = (int) Math.min(Integer.MAX_VALUE - 8, hub.mllp().maxFrameSize().toBytes());
        MllpFrameDecoder.Framing strict = MllpFrameDecoder.Framing.strict(max).withBudget(budget)
                .withEndGrace(hub.mllp().frameEndGrace());
        return new DefaultChannelHandlerFactory() {
            @Override
            public io.netty.channel.ChannelHandler newChannelHandler() {
                // the listener's acceptFsWithoutCr, read when the connection opens
                return new MllpFrameDecoder(channel -> strict.withFsEndsFrame(listeners.of(channel).acceptFsWithoutCr()));
            }
        };
    }

    /**
     * Closes connections that sent nothing for the idle timeout (and wait for no ACK), so dead peers
     * do not pile up. An idle state event, not Netty's ReadTimeoutException: that one reaches Camel's
     * handler, which logs every routine close as a WARN with a stack trace.
     */
    @Bean
    ChannelHandlerFactory mllpIdleTimeout(HubProperties hub) {
        long millis = hub.mllp().idleTimeout().toMillis();
        return new DefaultChannelHandlerFactory() {
            @Override
            public io.netty.channel.ChannelHandler newChannelHandler() {
                // all-idle: neither a frame read nor an ACK written; the clock restarts with each ACK
                return new IdleStateHandler(0, 0, millis, TimeUnit.MILLISECONDS) {
                    @Override
                    protected void channelIdle(ChannelHandlerContext ctx, IdleStateEvent event) {
                        if (MllpFrameDecoder.unanswered(ctx.channel()).get() > 0) {
                            return; // quiet because it waits for its ACK: not idle
                        }
                        log.info("MLLP connection from {} idle for {} ms; closing it", ctx.channel().remoteAddress(), millis);
                        ctx.close();
                    }

                    @Override
                    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
                        MllpFrameDecoder.unanswered(ctx.channel()).updateAndGet(n -> Math.max(0, n - 1)); // an ACK
                        super.write(ctx, msg, promise);
                    }
                };
            }
        };
    }

    /**
     * The threads MLLP messages are processed on (intake blocks on the journal's commit). Camel's
     * default pins each connection to one thread of its pool, so a slow message stalls every other
     * connection pinned to that thread. Here each connection keeps its order (frames answered one
     * after another) but runs on whichever pool thread is free: a slow message holds one thread,
     * and at most {@code camel.component.netty.maximum-pool-size} messages are processed at once.
     */
    @Bean
    ComponentCustomizer mllpIntakeThreads(@Value("${camel.component.netty.maximum-pool-size:32}") int threads) {
        return ComponentCustomizer.forType(NettyComponent.class, netty -> netty.setExecutorService(
                new NonStickyEventExecutorGroup(new UnorderedThreadPoolEventExecutor(threads,
                        new DefaultThreadFactory("mllp-intake", true)))));
    }

    @Bean
    HL7MLLPNettyEncoderFactory mllpFrameEncoder() {
        return new HL7MLLPNettyEncoderFactory(); // frames the byte[] ACK as is
    }
}
