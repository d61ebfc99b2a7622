package org.supplyhub.ingest;

import io.netty.handler.timeout.ReadTimeoutHandler;
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

    @Bean
    InterfaceCatalog interfaceCatalog(HubProperties hub) {
        return InterfaceCatalog.load(hub.routesDir(), hub.mappingsDir());
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

    /** Closes connections that sent nothing for the idle timeout, so dead peers do not pile up. */
    @Bean
    ChannelHandlerFactory mllpIdleTimeout(HubProperties hub) {
        long millis = hub.mllp().idleTimeout().toMillis();
        return new DefaultChannelHandlerFactory() {
            @Override
            public io.netty.channel.ChannelHandler newChannelHandler() {
                return new ReadTimeoutHandler(millis, TimeUnit.MILLISECONDS);
            }
        };
    }

    @Bean
    HL7MLLPNettyEncoderFactory mllpFrameEncoder() {
        return new HL7MLLPNettyEncoderFactory(); // frames the byte[] ACK as is
    }
}
