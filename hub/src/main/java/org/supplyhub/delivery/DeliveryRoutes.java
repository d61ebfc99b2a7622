package org.supplyhub.delivery;

import org.apache.camel.builder.RouteBuilder;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import org.supplyhub.ingest.InterfaceCatalog;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code outbox-delivery} route template: one route per destination that keeps its outbox
 * drained. It ticks often; while rows are due it drains back to back, when idle it polls every
 * {@code pollInterval}.
 */
@Component
public class DeliveryRoutes extends RouteBuilder {

    private static final String DESTINATION = "SupplyHubDestination";

    private final InterfaceCatalog catalog;
    private final DeliveryWorker worker;
    private final Map<String, Long> nextPoll = new ConcurrentHashMap<>();

    private final boolean enabled;

    /** {@code hub.delivery.enabled=false} makes an intake-only node (delivery runs on other nodes). */
    public DeliveryRoutes(InterfaceCatalog catalog, DeliveryWorker worker,
                          @Value("${hub.delivery.enabled:true}") boolean enabled) {
        this.catalog = catalog;
        this.worker = worker;
        this.enabled = enabled;
    }

    @Override
    public void configure() {
        routeTemplate(InterfaceCatalog.DELIVERY_TEMPLATE)
                .templateParameter("destination").templateParameter("connector").templateParameter("output")
                .templateParameter("directory", "").templateParameter("format", "")
                .templateParameter("maxAttempts", "").templateParameter("maxAge", "").templateParameter("initialBackoff", "")
                .templateParameter("maxBackoff", "").templateParameter("pollInterval", "")
                .templateParameter("lease", "").templateParameter("batchSize", "")
                .templateParameter("description", "").templateParameter("url", "").templateParameter("timeout", "")
                .templateParameter("oauth2", "").templateParameter("onReject", "")
                .templateParameter("receivingApplication", "").templateParameter("receivingFacility", "")
                .from("timer:outbox-{{destination}}?period=100&delay=500")
                .setProperty(DESTINATION, constant("{{destination}}"))
                .process(exchange -> drain(catalog.destination(exchange.getProperty(DESTINATION, String.class))));
    }

    private void drain(DestinationDefinition d) {
        if (!enabled) {
            return;
        }
        long now = System.currentTimeMillis();
        if (now < nextPoll.getOrDefault(d.name(), 0L)) {
            return;
        }
        // drain back to back while rows keep coming (for up to a second, then let the timer breathe)
        int claimed;
        do {
            claimed = worker.poll(d);
        } while (claimed > 0 && System.currentTimeMillis() - now < 1000);
        nextPoll.put(d.name(), claimed > 0 ? now : now + d.pollInterval().toMillis());
    }
}
