package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import org.apache.camel.builder.RouteBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import org.supplyhub.config.ConfigParticipant;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.RouteTemplate;
import org.supplyhub.config.RunningConfig;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code outbox-delivery} route template: one route per destination that keeps its outbox
 * drained. It ticks every 100 ms; while a backlog is due it drains back to back, rows that trickle in
 * are taken together at the next tick, and when idle it polls every {@code pollInterval}. Nothing a poll throws (a database outage, an {@link Error}) ends the route:
 * it is reported to {@link DeliveryHealth} and the next tick polls again.
 */
@Component
public class DeliveryRoutes extends RouteBuilder implements ConfigParticipant {

    private static final Logger log = LoggerFactory.getLogger(DeliveryRoutes.class);
    private static final String DESTINATION = "SupplyHubDestination";

    private final RunningConfig catalog;
    private final DeliveryWorker worker;
    private final DeliveryHealth health;
    private final Map<String, Long> nextPoll = new ConcurrentHashMap<>();

    private final boolean enabled;

    /** {@code hub.delivery.enabled=false} makes an intake-only node (delivery runs on other nodes). */
    public DeliveryRoutes(RunningConfig catalog, DeliveryWorker worker, DeliveryHealth health,
                          @Value("${hub.delivery.enabled:true}") boolean enabled) {
        this.catalog = catalog;
        this.worker = worker;
        this.health = health;
        this.enabled = enabled;
        check(catalog.catalog());
    }

    /** Refuses a set (at start or on reload) rather than send twice: a claim must not outlast its lease. */
    @Override
    public void check(InterfaceCatalog next) {
        next.destinations().forEach(worker::checkLease);
    }

    @Override
    public void configure() {
        RouteTemplate.DELIVERY.declare(this)
                .from("timer:outbox-{{destination}}?period=100&delay=500")
                .setProperty(DESTINATION, constant("{{destination}}"))
                // the running set's definition, read each tick: a reload's new settings apply from the next poll
                .process(exchange -> catalog.findDestination(exchange.getProperty(DESTINATION, String.class))
                        .ifPresent(this::drain));
    }

    private void drain(DestinationDefinition d) {
        if (!enabled) {
            return;
        }
        long now = System.currentTimeMillis();
        if (now < nextPoll.getOrDefault(d.name(), 0L)) {
            health.idle(d.name());
            return;
        }
        // drain back to back while a backlog is due (for up to a second, then let the timer breathe); rows
        // that intake adds one by one wait for the next tick (100 ms) and go out together: a claim of one
        // or two rows cost about as much as one of fifty (measured: see README, file destinations)
        int claimed = 0;
        try {
            DeliveryWorker.Polled polled;
            do {
                polled = worker.pollOnce(d);
                claimed = polled.claimed();
            } while (polled.more() && System.currentTimeMillis() - now < 1000);
            health.polled(d.name(), null);
        } catch (Throwable e) { // even an Error: a timer thread that dies leaves its rows pending for good
            claimed = 0;
            if (health.polled(d.name(), e)) { // once per run of failures, not every second
                log.error("Destination {}: poll failed ({}); polling again every {}", d.name(), e.getClass().getName(),
                        d.pollInterval());
            }
        } finally {
            nextPoll.put(d.name(), claimed > 0 ? now : now + d.pollInterval().toMillis());
        }
    }
}
