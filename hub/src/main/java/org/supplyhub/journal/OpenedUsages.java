package org.supplyhub.journal;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;
import org.supplyhub.mapping.RenderSpec;
import org.supplyhub.mapping.SupplyUsage;

import java.time.Duration;
import java.util.function.Function;

/**
 * Journaled usages in the clear and parsed, by message id, with the value as stored that they stand for.
 * The journal puts each accepted message's usage here once its transaction has committed, and this node's
 * delivery takes it from here instead of decrypting and parsing the stored value again (end to end the
 * JSON parse alone was about half of the first sender's samples per message, issue 16). A message's usage
 * never changes once journaled, and its destinations claim it within moments of each other.
 * <p>
 * An entry is served only for the stored value it came from ({@link #get(long, String)}): a row whose
 * stored value differs (tampered with, say) is opened on its own and fails its row alone.
 */
@Component
public class OpenedUsages {

    /** A usage as stored (sealed when encryption is on), what it opens and parses to, and how it renders. */
    public record Opened(String stored, SupplyUsage usage, RenderSpec spec) {

        /** With the spec the usage was journaled with; one journaled before versioned rendering has none. */
        public static Opened of(String stored, SupplyUsage usage, String usageJson) {
            RenderSpec spec = RenderSpec.read(usageJson);
            return new Opened(stored, usage, spec == null ? RenderSpec.UNVERSIONED : spec);
        }
    }

    /**
     * Bounded by the stored values' length (each entry holds that string and about as much again in its
     * parsed form) and by age. A Mercy usage is ~7,000 characters stored, so ~1,100 messages fit: at the
     * benchmark's rate (650 msg/s) its three destinations take a message within a few hundred
     * milliseconds; a backlog's older messages (a paused or failing receiver) are opened from the journal
     * as before.
     */
    static final long MAX_STORED_CHARS = 8_000_000;

    private final Cache<Long, Opened> cache = Caffeine.newBuilder()
            .maximumWeight(MAX_STORED_CHARS).weigher((Long id, Opened o) -> o.stored().length())
            .expireAfterAccess(Duration.ofMinutes(1))
            .executor(Runnable::run) // its upkeep on the caller: no hand-off to the common pool per write
            .build();

    /** False on an intake-only node ({@code hub.delivery.enabled=false}): nothing here would be read. */
    private final boolean delivering;

    /** For a node that delivers (tools and tests). */
    public OpenedUsages() {
        this(true);
    }

    @Autowired
    public OpenedUsages(@Value("${hub.delivery.enabled:true}") boolean delivering) {
        this.delivering = delivering;
    }

    /** Whether journaled usages are kept here at all: not on an intake-only node, where nothing reads them. */
    boolean keeps() {
        return delivering;
    }

    /** The opened usage of message {@code id} if it is the one of exactly this stored value; else null. */
    public Opened get(long id, String stored) {
        Opened opened = cache.getIfPresent(id);
        return opened != null && opened.stored().equals(stored) ? opened : null;
    }

    /** The cached one, or the one {@code open} gives, computed once for callers that ask at the same time. */
    public Opened get(long id, Function<Long, Opened> open) {
        return cache.get(id, open);
    }

    /** A usage that has just been journaled as {@code stored}: known in the clear and parsed already. */
    void journaled(long id, String stored, SupplyUsage usage, String usageJson) {
        if (!delivering) {
            return;
        }
        cache.put(id, Opened.of(stored, usage, usageJson));
    }
}
