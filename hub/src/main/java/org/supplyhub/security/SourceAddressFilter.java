package org.supplyhub.security;

import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ipfilter.IpFilterRule;
import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.handler.ipfilter.RuleBasedIpFilter;
import org.apache.camel.CamelContext;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.supplyhub.journal.AuditLog;
import org.supplyhub.mapping.ConfigurationException;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * An MLLP interface's {@code allowedSources}: the CIDR blocks ({@code 10.20.0.0/16, 192.168.7.12})
 * a plain-TCP sender may connect from. Others are closed before a byte is read, and audited
 * ({@code CONNECTION_REFUSED}). Empty: any source (the listener's {@code host} still limits where it
 * listens). The route's first channel handler ({@code #mllpSources}) replaces itself, per connection,
 * with the filter of the interface listening on that port; Netty's {@link RuleBasedIpFilter} matches.
 * A list that does not parse refuses every connection (fail closed) and says why at start.
 */
@Component("mllpSources")
@ChannelHandler.Sharable
public final class SourceAddressFilter extends ChannelInboundHandlerAdapter implements org.supplyhub.config.ConfigParticipant {

    private static final Logger log = LoggerFactory.getLogger(SourceAddressFilter.class);

    private final CamelContext camel;
    private final AuditLog audit;
    private volatile Map<Integer, ChannelHandler> byPort;

    public SourceAddressFilter(CamelContext camel, AuditLog audit) {
        this.camel = camel;
        this.audit = audit;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        int port = ((InetSocketAddress) ctx.channel().localAddress()).getPort();
        ChannelHandler filter = filters().get(port);
        if (filter == null) {
            ctx.pipeline().remove(this);
        } else {
            ctx.pipeline().replace(this, "mllpSourceFilter", filter);
        }
    }

    /** Port → filter, from the templated routes' {@code allowedSources} (read once, after the routes exist). */
    private Map<Integer, ChannelHandler> filters() {
        Map<Integer, ChannelHandler> filters = byPort;
        if (filters == null) {
            filters = new HashMap<>();
            for (RouteDefinition route : ((ModelCamelContext) camel).getRouteDefinitions()) {
                Map<String, Object> params = route.getTemplateParameters();
                Object listed = params == null ? null : params.get("allowedSources");
                if (listed == null || listed.toString().isBlank() || params.get("port") == null) {
                    continue;
                }
                String interfaceId = String.valueOf(params.get("interfaceId"));
                int port = Integer.parseInt(camel.resolvePropertyPlaceholders(params.get("port").toString()).trim());
                ChannelHandler filter;
                try {
                    filter = of(interfaceId, listed.toString(), audit);
                } catch (ConfigurationException e) {
                    log.error("{} — every connection to it is refused", e.getMessage());
                    filter = new Filter(interfaceId, audit, new IpSubnetFilterRule("0.0.0.0", 0, IpFilterRuleType.REJECT),
                            new IpSubnetFilterRule("::", 0, IpFilterRuleType.REJECT));
                }
                filters.put(port, filter);
            }
            byPort = filters;
        }
        return filters;
    }

    /** Checks every interface's list when the routes have started, so a typo shows in the start log. */
    @EventListener(ApplicationReadyEvent.class)
    public void check() {
        filters();
    }

    /** A reload changed the routes: read the lists again before the new listeners start. */
    @Override
    public void activate(org.supplyhub.config.InterfaceCatalog next) {
        byPort = null;
        filters();
    }

    static ChannelHandler of(String interfaceId, String allowedSources, AuditLog audit) {
        List<IpFilterRule> rules = new ArrayList<>();
        for (String cidr : allowedSources.split("[,;\\s]+")) {
            if (cidr.isBlank()) {
                continue;
            }
            try {
                rules.add(new IpSubnetFilterRule(cidr.contains("/") ? cidr : cidr + (cidr.contains(":") ? "/128" : "/32"),
                        IpFilterRuleType.ACCEPT));
            } catch (RuntimeException e) {
                throw new ConfigurationException("interface '" + interfaceId + "': allowedSources '" + cidr
                        + "' is not an address or CIDR block (e.g. 10.20.0.0/16)");
            }
        }
        if (rules.isEmpty()) {
            return null;
        }
        log.info("Interface {}: MLLP connections accepted only from {}", interfaceId, allowedSources);
        return new Filter(interfaceId, audit, rules.toArray(IpFilterRule[]::new));
    }

    @ChannelHandler.Sharable
    static final class Filter extends RuleBasedIpFilter {
        private final String interfaceId;
        private final AuditLog audit;

        Filter(String interfaceId, AuditLog audit, IpFilterRule... rules) {
            super(false, rules); // not listed: refused
            this.interfaceId = interfaceId;
            this.audit = audit;
        }

        @Override
        protected ChannelFuture channelRejected(ChannelHandlerContext ctx, InetSocketAddress remote) {
            String peer = remote.getAddress().getHostAddress();
            int port = ((InetSocketAddress) ctx.channel().localAddress()).getPort();
            log.warn("Interface {}: MLLP connection from {} refused: not in allowedSources", interfaceId, peer);
            // off the I/O thread, as for refused TLS handshakes
            CompletableFuture.runAsync(() -> audit.record(AuditLog.anonymous(peer), "CONNECTION_REFUSED", interfaceId,
                    "mllp port " + port, "REFUSED", "source address not in allowedSources"));
            return null; // the filter closes the channel
        }
    }
}
