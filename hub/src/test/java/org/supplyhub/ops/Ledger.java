package org.supplyhub.ops;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * What one receiver did, the way its owner would audit it: sends received, sends whose idempotency
 * key it had already seen (a redelivery it answered without applying anything again — expected after
 * a timeout, so informational), and the business effects it applied (a charge line, a stock
 * movement, a FHIR resource) with how often each was applied. An effect applied twice is a
 * duplicate: the patient was charged twice, the stock moved twice.
 */
public final class Ledger {

    public record Tally(long received, long redeliveries, long applied, long duplicates) {
    }

    private final String name;
    private final AtomicLong received = new AtomicLong();
    private final AtomicLong redeliveries = new AtomicLong();
    private final Set<String> keys = ConcurrentHashMap.newKeySet();
    private final Map<String, Integer> effects = new ConcurrentHashMap<>();

    public Ledger(String name) {
        this.name = name;
    }

    public String name() {
        return name;
    }

    /** A send arrived with this idempotency key; false if the key was seen before (nothing to apply). */
    public boolean firstSend(String key) {
        received.incrementAndGet();
        if (keys.add(key)) {
            return true;
        }
        redeliveries.incrementAndGet();
        return false;
    }

    /**
     * A send without an idempotency key of its own (a FHIR transaction: its conditional creates are
     * the key); {@code nothingNew} when every entry already existed, i.e. it was a redelivery.
     */
    public void send(boolean nothingNew) {
        received.incrementAndGet();
        if (nothingNew) {
            redeliveries.incrementAndGet();
        }
    }

    /** Applies one business effect (charge line, movement, resource), keyed by its business identity. */
    public void apply(String effect) {
        effects.merge(effect, 1, Integer::sum);
    }

    public Tally tally() {
        return tally(e -> true);
    }

    /** Counts over the effects whose key matches (e.g. one campaign's transaction ids); sends are not filtered. */
    public Tally tally(Predicate<String> effectFilter) {
        long applied = 0;
        long duplicates = 0;
        for (Map.Entry<String, Integer> e : effects.entrySet()) {
            if (effectFilter.test(e.getKey())) {
                applied++;
                duplicates += e.getValue() - 1;
            }
        }
        return new Tally(received.get(), redeliveries.get(), applied, duplicates);
    }

    /** effect key → times applied. */
    public Map<String, Integer> effects() {
        return new TreeMap<>(effects);
    }

    /** Zeroes the send counters (between campaigns); effects and seen keys stay, as in a real system. */
    public void resetCounters() {
        received.set(0);
        redeliveries.set(0);
    }

    public String json() {
        Tally t = tally();
        return "{\"receiver\":\"%s\",\"received\":%d,\"redeliveries\":%d,\"applied\":%d,\"duplicates\":%d}"
                .formatted(name, t.received(), t.redeliveries(), t.applied(), t.duplicates());
    }
}
