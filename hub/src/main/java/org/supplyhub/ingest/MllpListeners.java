package org.supplyhub.ingest;

import org.supplyhub.config.ConfigSnapshot;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.RouteTemplate;
import org.supplyhub.config.RunningConfig;

import io.netty.channel.Channel;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * The MLLP listeners of the running configuration by port, with the settings a connection takes
 * when it opens ({@link RouteTemplate#MAX_CONNECTIONS}, {@link RouteTemplate#ACCEPT_FS_WITHOUT_CR}).
 * Read from the running set, so a reload that changes them applies to the next connection.
 */
public final class MllpListeners {

    /** One listener's per-connection settings. */
    public record Listener(String interfaceId, int maxConnections, boolean acceptFsWithoutCr) { }

    private record ByPort(ConfigSnapshot snapshot, Map<Integer, Listener> listeners) { }

    private final RunningConfig running;
    private volatile ByPort cache;

    public MllpListeners(RunningConfig running) {
        this.running = running;
    }

    /** The listener a channel was accepted on; a port of no hub template (an own route) gets the defaults. */
    public Listener of(Channel channel) {
        SocketAddress local = channel.localAddress();
        int port = local instanceof InetSocketAddress address ? address.getPort() : -1;
        ConfigSnapshot now = running.current();
        ByPort known = cache;
        if (known == null || known.snapshot() != now) {
            known = new ByPort(now, read(now.catalog()));
            cache = known;
        }
        Listener listener = known.listeners().get(port);
        return listener != null ? listener : defaults("port-" + port, RouteTemplate.MLLP);
    }

    private static Map<Integer, Listener> read(InterfaceCatalog catalog) {
        Map<Integer, Listener> byPort = new HashMap<>();
        for (InterfaceCatalog.TemplatedRoute route : catalog.routes()) {
            RouteTemplate template = RouteTemplate.byId(route.template()).orElse(null);
            if (template == null || !template.isListener()) {
                continue;
            }
            Map<String, String> given = route.parameters();
            try {
                int port = Integer.parseInt(given.getOrDefault("port", "").trim());
                byPort.put(port, new Listener(route.name(),
                        Integer.parseInt(value(template, RouteTemplate.MAX_CONNECTIONS, given)),
                        Boolean.parseBoolean(value(template, RouteTemplate.ACCEPT_FS_WITHOUT_CR, given))));
            } catch (NumberFormatException e) {
                // the catalog refused such a set already
            }
        }
        return byPort;
    }

    private static Listener defaults(String name, RouteTemplate template) {
        return new Listener(name, Integer.parseInt(value(template, RouteTemplate.MAX_CONNECTIONS, Map.of())),
                Boolean.parseBoolean(value(template, RouteTemplate.ACCEPT_FS_WITHOUT_CR, Map.of())));
    }

    private static String value(RouteTemplate template, String name, Map<String, String> given) {
        return template.parameter(name).orElseThrow().valueIn(given);
    }
}
