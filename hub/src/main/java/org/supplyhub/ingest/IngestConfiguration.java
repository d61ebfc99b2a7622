package org.supplyhub.ingest;

import org.supplyhub.config.ConfigSnapshot;
import org.supplyhub.config.RunningConfig;

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
            mllp = mllp == null ? new Mllp(null, null) : mllp;
            maxMessageSize = maxMessageSize == null ? DataSize.ofMegabytes(1) : maxMessageSize;
        }

        public record Mllp(DataSize maxFrameSize, Duration idleTimeout) {
            public Mllp {
                maxFrameSize = maxFrameSize == null ? DataSize.ofMegabytes(1) : maxFrameSize;
                idleTimeout = idleTimeout == null ? Duration.ofMinutes(5) : idleTimeout;
            }
        }
    }

    /** The set the hub starts on; live reload swaps in later ones. */
    @Bean
    RunningConfig runningConfig(HubProperties hub) {
        return new RunningConfig(ConfigSnapshot.load(hub.routesDir(), hub.mappingsDir()));
    }

    @Bean
    ChannelHandlerFactory mllpFrameDecoder(HubProperties hub) {
        int max = (int) Math.min(Integer.MAX_VALUE - 8, hub.mllp().maxFrameSize().toBytes());
        return new DefaultChannelHandlerFactory() {
            @Override
            public io.netty.channel.ChannelHandler newChannelHandler() {
                return new MllpFrameDecoder(max);
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
