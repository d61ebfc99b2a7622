package org.supplyhub.retention;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * How long each interface's message content is kept: a default and per-interface overrides. Pure
 * logic: which groups of messages a purge run walks, and the cut-off of each.
 */
public record RetentionPolicy(Duration defaultPeriod, Map<String, Duration> overrides) {

    /** Shorter than a day is refused: a period written without a unit ({@code 90}) binds as 90 ms. */
    static final Duration MINIMUM = Duration.ofDays(1);

    public RetentionPolicy {
        check("hub.retention.default", defaultPeriod);
        overrides = new TreeMap<>(overrides == null ? Map.of() : overrides);
        overrides.forEach((id, period) -> check("hub.retention.interfaces." + id, period));
        overrides = java.util.Collections.unmodifiableMap(overrides);
    }

    private static void check(String setting, Duration period) {
        if (period == null || period.compareTo(MINIMUM) < 0) {
            throw new org.supplyhub.mapping.ConfigurationException(setting + " must be at least 1d (with a unit: 90d, 2555d); got "
                    + period);
        }
    }

    /**
     * One group of messages under one period: a named interface ({@code interfaceId}), or every
     * interface not named ({@code interfaceId} null, {@code except} the named ones).
     */
    public record Group(String interfaceId, List<String> except, Duration period, Instant cutoff) {

        /** Why a message of this group was purged, in the words stored with it and shown by the API. */
        public String reason() {
            return "retention: content kept " + words(period) + " after receipt, every delivery done ("
                    + (interfaceId == null ? "hub.retention.default" : "hub.retention.interfaces." + interfaceId) + ")";
        }
    }

    /** The groups a purge at {@code now} walks: each override, then the rest under the default. */
    public List<Group> groups(Instant now) {
        List<Group> groups = new ArrayList<>();
        overrides.forEach((id, period) -> groups.add(new Group(id, List.of(), period, now.minus(period))));
        groups.add(new Group(null, List.copyOf(overrides.keySet()), defaultPeriod, now.minus(defaultPeriod)));
        return groups;
    }

    /** The period of one interface's messages. */
    public Duration periodOf(String interfaceId) {
        return overrides.getOrDefault(interfaceId, defaultPeriod);
    }

    static String words(Duration period) {
        return period.toHours() % 24 == 0 && period.toSecondsPart() == 0 && period.toMinutesPart() == 0
                ? period.toDays() + (period.toDays() == 1 ? " day" : " days") : period.toString();
    }
}
