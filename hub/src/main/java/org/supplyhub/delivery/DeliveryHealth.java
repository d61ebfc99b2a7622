package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.actuate.health.CompositeHealthContributor;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthContributor;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.NamedContributor;
import org.springframework.stereotype.Component;
import org.supplyhub.delivery.OutboxRepository.Settlement;
import org.supplyhub.config.RunningConfig;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code delivery} health component, one indicator per destination, and the one-line log of a
 * receiver outage. A destination is DOWN while its last poll failed (the database, say), for
 * {@code hub.delivery.fatal-hold} after a fatal error in its worker (out of memory, stack
 * overflow), and when no poll has completed for its lease plus a minute (a worker that hangs or
 * died): never a silent dead worker with rows pending while health says UP. A receiver that fails
 * is not the hub's fault and does not make it DOWN; it is reported and logged once when it starts
 * failing (WARN) and once when it recovers (INFO), never per row.
 */
@Component("deliveryHealthContributor")
public class DeliveryHealth implements CompositeHealthContributor, org.supplyhub.config.ConfigParticipant {

    private static final Logger log = LoggerFactory.getLogger(DeliveryHealth.class);

    /** A poll may last up to its destination's lease (checked at start-up); beyond this slack, it hangs. */
    static final Duration STALL_SLACK = Duration.ofMinutes(1);

    /** What one destination's worker did last; written by its timer thread and its senders. */
    static final class State {
        volatile Instant lastTick;
        volatile Instant pollFailedAt;
        volatile String pollFailure;
        volatile Instant fatalAt;
        volatile String fatal;
        volatile Instant receiverFailingSince;
        volatile int receiverFailures;

        State(Instant now) {
            lastTick = now;
        }
    }

    private final Map<String, State> states = new ConcurrentHashMap<>();
    private final Map<String, Duration> stallAfter = new ConcurrentHashMap<>();
    private volatile CompositeHealthContributor indicators;
    private final Duration fatalHold;
    private final boolean enabled;
    private final Clock clock;

    @Autowired
    public DeliveryHealth(RunningConfig catalog, @Value("${hub.delivery.fatal-hold:1m}") Duration fatalHold,
                          @Value("${hub.delivery.enabled:true}") boolean enabled) {
        this(catalog.destinations(), fatalHold, enabled, Clock.systemUTC());
    }

    DeliveryHealth(Iterable<DestinationDefinition> destinations, Duration fatalHold, boolean enabled, Clock clock) {
        this.fatalHold = fatalHold;
        this.enabled = enabled;
        this.clock = clock;
        activate(destinations);
    }

    /** The destinations of a reloaded set: one indicator each, none for a removed one. */
    @Override
    public void activate(org.supplyhub.config.InterfaceCatalog next) {
        activate(next.destinations());
    }

    private void activate(Iterable<DestinationDefinition> destinations) {
        Map<String, HealthIndicator> byName = new LinkedHashMap<>();
        for (DestinationDefinition d : destinations) {
            states.putIfAbsent(d.name(), new State(clock.instant()));
            stallAfter.put(d.name(), d.lease().plus(STALL_SLACK));
            byName.put(d.name(), () -> health(d.name()));
        }
        indicators = CompositeHealthContributor.fromMap(byName);
    }

    /** A timer tick of a destination's worker that had nothing to do (not yet time to poll). */
    void idle(String destination) {
        state(destination).lastTick = clock.instant();
    }

    /**
     * The end of one poll of a destination's worker: {@code failure} if it threw.
     * Returns whether this failure starts a run of them (the caller logs only that one).
     */
    boolean polled(String destination, Throwable failure) {
        State s = state(destination);
        Instant now = clock.instant();
        boolean first = failure != null && s.pollFailedAt == null;
        if (failure != null) {
            s.pollFailedAt = now;
            s.pollFailure = failure.getClass().getName();
        } else {
            s.pollFailedAt = null;
        }
        s.lastTick = now;
        return first;
    }

    /** A fatal error (an {@link Error}) caught in the destination's worker or senders. */
    void fatal(String destination, Throwable error) {
        State s = state(destination);
        s.fatal = error.getClass().getName();
        s.fatalAt = clock.instant();
    }

    /**
     * What a settled group of attempts says about the receiver: a delivery means it is up; failed
     * sends (timeouts, 5xx, AE…) with no delivery mean it is failing. Logs only the transitions.
     */
    void receiver(String destination, boolean delivered, List<Settlement> failedSends) {
        State s = state(destination);
        if (delivered && s.receiverFailingSince != null) {
            log.info("Destination {}: delivering again after {} failed attempts since {}", destination,
                    s.receiverFailures + failedSends.size(), s.receiverFailingSince);
            s.receiverFailingSince = null;
            s.receiverFailures = 0;
        } else if (!delivered && !failedSends.isEmpty()) {
            if (s.receiverFailingSince == null) {
                Settlement first = failedSends.get(0);
                // code and detail are the connector's own words (status, ACK code, host), never content
                log.warn("Destination {}: delivery failing ({}: {}); retrying, one line again when it recovers",
                        destination, first.code(), first.detail());
                s.receiverFailingSince = clock.instant();
            }
            s.receiverFailures += failedSends.size();
        }
    }

    Health health(String destination) {
        if (!enabled) {
            return Health.up().withDetail("delivery", "disabled on this node (hub.delivery.enabled=false)").build();
        }
        State s = state(destination);
        Instant now = clock.instant();
        Health.Builder h = Health.up();
        if (s.pollFailedAt != null) {
            h.down().withDetail("pollFailed", s.pollFailure + " at " + s.pollFailedAt);
        }
        if (s.fatalAt != null && s.fatalAt.plus(fatalHold).isAfter(now)) {
            h.down().withDetail("fatal", s.fatal + " at " + s.fatalAt);
        }
        Duration since = Duration.between(s.lastTick, now);
        if (since.compareTo(stallAfter.getOrDefault(destination, STALL_SLACK)) > 0) {
            h.down().withDetail("stalled", "no poll completed for " + since.toSeconds() + "s");
        }
        h.withDetail("lastPoll", s.lastTick.toString());
        if (s.receiverFailingSince != null) {
            h.withDetail("receiverFailingSince", s.receiverFailingSince.toString())
                    .withDetail("failedAttempts", s.receiverFailures);
        }
        return h.build();
    }

    private State state(String destination) {
        return states.computeIfAbsent(destination, name -> new State(clock.instant()));
    }

    @Override
    public HealthContributor getContributor(String name) {
        return indicators.getContributor(name);
    }

    @Override
    public Iterator<NamedContributor<HealthContributor>> iterator() {
        return indicators.iterator();
    }
}
