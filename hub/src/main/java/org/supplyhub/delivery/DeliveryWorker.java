package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.config.ConnectorKind;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Service;
import org.supplyhub.delivery.OutboxRepository.Claimed;
import org.supplyhub.delivery.OutboxRepository.Outcome;
import org.supplyhub.delivery.OutboxRepository.Settlement;
import org.supplyhub.journal.OpenedUsages;
import org.supplyhub.journal.OpenedUsages.Opened;
import org.supplyhub.mapping.ConfigurationException;
import org.supplyhub.mapping.FhirRenderer;
import org.supplyhub.mapping.SupplyUsage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Drains one destination's outbox: claim due rows, render, send, then mark delivered, schedule a
 * retry (exponential backoff with jitter) or mark dead after the destination's limit. Every attempt
 * is journaled, without message content.
 * <p>
 * Failures are typed by where they happen: a payload that cannot be rendered (the journaled usage
 * cannot be read, or the renderer fails) never will be, so the row is dead at once and its account
 * moves on; a send that fails, expectedly or not (any exception, even an {@link Error}), is an
 * attempt like any other and is retried within the destination's limits.
 */
@Service
public class DeliveryWorker {

    private static final Logger log = LoggerFactory.getLogger(DeliveryWorker.class);

    /**
     * A finished send waits at most this long for the others of its claim before it is settled on
     * its own: a fast claim is settled in one transaction, a claim with a slow send does not hold
     * the rows that are done (their leases keep running) until the slowest one returns.
     */
    static final Duration SETTLE_WAIT = Duration.ofMillis(250);

    private final OutboxRepository outbox;
    private final Payloads payloads;
    private final Map<ConnectorKind, Connector> connectors;
    private final ObjectMapper json;
    private final MeterRegistry meters;
    private final DeliveryHealth health;
    private final DestinationPauses pauses;
    /** Per destination: a destination that hangs ties up only its own senders. */
    private final Map<String, ExecutorService> senders = new ConcurrentHashMap<>();
    private final int sendersPerDestination;
    /** Set before the senders are interrupted at shutdown. */
    private volatile boolean stopping;
    /**
     * Opened and parsed usages by message id, with the value as stored that each came from: put there by
     * this node's journal as it commits them, or by the first of a message's senders that opens it here.
     */
    private final OpenedUsages usages;
    private final FhirRenderer renderer;
    /**
     * A message's FHIR resources, rendered once for the FHIR destinations that claim it within moments
     * of each other (an interface may have several). Small: ~9 kB a message; a miss renders again
     * (~16 µs CPU for the Mercy sample, FhirJsonWriterBenchmark).
     */
    private final Cache<Long, List<String>> rendered = Caffeine.newBuilder()
            .maximumSize(256).expireAfterWrite(Duration.ofSeconds(30))
            .executor(Runnable::run) // its upkeep on the sender: no hand-off to the common pool per write
            .build();

    public DeliveryWorker(OutboxRepository outbox, Payloads payloads, FileConnector file, HttpConnector http,
                          MllpConnector mllp, FhirConnector fhir, ObjectMapper json, MeterRegistry meters,
                          DeliveryHealth health, DestinationPauses pauses, FhirRenderer renderer, OpenedUsages usages,
                          @Value("${hub.delivery.senders:8}") int sendersPerDestination) {
        this.renderer = renderer;
        this.usages = usages;
        this.pauses = pauses;
        this.sendersPerDestination = sendersPerDestination;
        this.outbox = outbox;
        this.payloads = payloads;
        this.connectors = Map.of(ConnectorKind.FILE, file, ConnectorKind.HTTP, http, ConnectorKind.MLLP, mllp,
                ConnectorKind.FHIR, fhir);
        this.json = json;
        this.meters = meters;
        this.health = health;
    }

    /**
     * Refuses a destination whose claim can outlast its lease: its last rows would still be
     * sending when another node may claim them again. The worst case is every sender waiting out
     * the timeout for each of its share of a full batch. File destinations have no timeout.
     */
    public void checkLease(DestinationDefinition d) {
        Duration worst = worstClaim(d, sendersPerDestination);
        if (worst != null && worst.compareTo(d.lease()) > 0) {
            int rounds = (d.batchSize() + sendersPerDestination - 1) / sendersPerDestination;
            throw new ConfigurationException(d.file() + ": destination '" + d.name() + "': a claim can take "
                    + rounds + " × timeout " + d.timeout().toSeconds() + "s = " + worst.toSeconds()
                    + "s (batchSize " + d.batchSize() + " on " + sendersPerDestination + " senders), longer than its lease of "
                    + d.lease().toSeconds() + "s: raise 'lease', lower 'batchSize' or 'timeout', or raise hub.delivery.senders");
        }
    }

    /** ceil(batchSize / senders) × timeout, or null for a connector without a timeout (files). */
    static Duration worstClaim(DestinationDefinition d, int senders) {
        if (d.connector() == ConnectorKind.FILE) {
            return null;
        }
        int rounds = (d.batchSize() + senders - 1) / senders;
        return d.timeout().multipliedBy(rounds);
    }

    /**
     * One pass over the due rows; returns how many were claimed (the caller polls again soon if any).
     * A claim holds at most one row per account, so its rows go out in parallel without breaking
     * any account's order. Rows are settled as their sends finish, in groups: all at once in one
     * transaction when the sends finish together.
     */
    public int poll(DestinationDefinition destination) {
        return pollOnce(destination).claimed();
    }

    /**
     * How a poll went: how many rows it claimed, and whether more are due right away (the claim was
     * full, or rows of its accounts queue behind the ones it took). Without more, the rows still to
     * come are the ones intake adds meanwhile: the next tick takes them together.
     */
    public record Polled(int claimed, boolean more) {
        static final Polled NONE = new Polled(0, false);
    }

    /** As {@link #poll}, telling whether to poll again at once. */
    public Polled pollOnce(DestinationDefinition destination) {
        if (pauses.paused(destination.name())) { // an operator paused it (on any node): its rows stay PENDING
            return Polled.NONE;
        }
        OutboxRepository.Claim claim = outbox.claimDue(destination.name(), destination.batchSize(), destination.lease());
        List<Claimed> rows = claim.rows();
        if (rows.isEmpty()) {
            return Polled.NONE;
        }
        Polled polled = new Polled(rows.size(), claim.more());
        Map<Long, List<String>> resources = destination.output() == DestinationDefinition.Output.FHIR
                ? outbox.resources(rows.stream().map(Claimed::messageId).collect(Collectors.toSet())) : Map.of();
        if (rows.size() == 1) {
            settle(destination, List.of(deliver(destination, rows.get(0), resources)));
            return polled;
        }
        ExecutorService pool = senders.computeIfAbsent(destination.name(), this::newSenders);
        CompletionService<Attempt> sends = new ExecutorCompletionService<>(pool);
        for (Claimed row : rows) {
            sends.submit(() -> deliver(destination, row, resources));
        }
        List<Attempt> done = new ArrayList<>();
        int outstanding = rows.size();
        try {
            while (outstanding > 0) {
                Future<Attempt> next = done.isEmpty() ? sends.take()
                        : sends.poll(SETTLE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
                if (next == null) { // the rest are slower: settle what is done now
                    settle(destination, done);
                    done = new ArrayList<>();
                    continue;
                }
                outstanding--;
                try {
                    done.add(next.get());
                } catch (ExecutionException e) { // deliver catches everything; its row's lease runs out
                    log.error("Destination {}: a send failed outside its handler: {}", destination.name(),
                            e.getCause().getClass().getName());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // rows left unsettled are due again when the lease runs out
        } finally {
            settle(destination, done);
        }
        return polled;
    }

    /** How one attempt ended, and what it says about the receiver: up, failing, or nothing (not sent). */
    record Attempt(Settlement settlement, Boolean receiverUp) { }

    private void settle(DestinationDefinition d, List<Attempt> attempts) {
        if (stopping) {
            // a send that failed now was most likely cut off by our own shutdown, not by its receiver:
            // it is left leased, and the claim that takes it after the lease journals it as LOST
            attempts = attempts.stream().filter(a -> a.settlement().outcome() == Outcome.DELIVERED).toList();
        }
        if (attempts.isEmpty()) {
            return;
        }
        attempts = flushed(d, attempts);
        int stale = outbox.settle(attempts.stream().map(Attempt::settlement).toList());
        if (stale > 0) {
            // the lease ran out mid-send and another claim owns these rows now (see OutboxRepository.settle)
            log.warn("Destination {}: {} row(s) of a claim were re-claimed after their lease ran out; left to that claim",
                    d.name(), stale);
        }
        for (Attempt a : attempts) {
            Settlement s = a.settlement();
            meters.counter("hub.deliveries", "destination", d.name(), "outcome", s.outcome().name()).increment();
            if (s.outcome() == Outcome.DEAD) {
                log.warn("Destination {}: outbox row {} (message {}) is dead after {} attempts: {}", d.name(),
                        s.row().id(), s.row().messageId(), s.row().attempt(), s.detail());
            }
        }
        health.receiver(d.name(), attempts.stream().anyMatch(a -> Boolean.TRUE.equals(a.receiverUp())),
                attempts.stream().filter(a -> Boolean.FALSE.equals(a.receiverUp())).map(Attempt::settlement).toList());
    }

    /**
     * The attempts, after the connector made the sent ones durable in one go (a file destination
     * syncs its directory): only then may they be settled DELIVERED. If it cannot, they are retried
     * (the same files are written again under the same names).
     */
    private List<Attempt> flushed(DestinationDefinition d, List<Attempt> attempts) {
        if (attempts.stream().noneMatch(DeliveryWorker::sent)) {
            return attempts;
        }
        try {
            connectors.get(d.connector()).flush(d);
            return attempts;
        } catch (DeliveryException | RuntimeException e) {
            String code = e instanceof DeliveryException de ? de.code() : "ERROR";
            String detail = e instanceof DeliveryException ? e.getMessage() : "flush failed: " + reason(e);
            List<Attempt> out = new ArrayList<>(attempts.size());
            for (Attempt a : attempts) {
                Settlement s = a.settlement();
                out.add(!sent(a) ? a : new Attempt(failedAfter(d, s.row(), s.started(), s.durationMs(), false, code, detail), false));
            }
            return out;
        }
    }

    /** Whether the attempt handed something to the connector that took it. */
    private static boolean sent(Attempt a) {
        return a.settlement().outcome() == Outcome.DELIVERED && Boolean.TRUE.equals(a.receiverUp());
    }

    private ExecutorService newSenders(String destination) {
        AtomicInteger n = new AtomicInteger();
        return Executors.newFixedThreadPool(sendersPerDestination, r -> {
            Thread t = new Thread(r, "deliver-" + destination + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @PreDestroy
    void stop() {
        stopping = true;
        senders.values().forEach(ExecutorService::shutdownNow);
    }

    private Attempt deliver(DestinationDefinition d, Claimed row, Map<Long, List<String>> resources) {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        Connector.Payload payload;
        Opened opened;
        List<String> outputs;
        try { // this row's values alone: one that cannot be opened fails its row, not the destination
            opened = opened(row);
            outputs = outbox.openResources(resources.getOrDefault(row.messageId(), List.of()));
        } catch (UnreadableUsage e) { // the same journaled usage fails the same way every time
            return new Attempt(failed(d, row, started, t0, true, "RENDER", "cannot render: " + reason(e.getCause())), null);
        } catch (org.springframework.dao.DataAccessException e) { // the key table could not be read just now
            return new Attempt(failed(d, row, started, t0, false, "DECRYPT", "data key not readable now: "
                    + e.getClass().getSimpleName()), null);
        } catch (RuntimeException e) { // a tampered value or a missing data key stays so: dead at once, no content
            return new Attempt(failed(d, row, started, t0, true, "DECRYPT", "cannot decrypt: "
                    + e.getClass().getSimpleName()), null);
        } catch (Error e) { // out of memory, stack overflow: says little about the message
            health.fatal(d.name(), e);
            log.error("Destination {}: outbox row {} (message {}): {} while opening its usage", d.name(), row.id(),
                    row.messageId(), e.getClass().getName());
            return new Attempt(failed(d, row, started, t0, false, "ERROR", "open failed: " + reason(e)), null);
        }
        try {
            SupplyUsage usage = opened.usage();
            if (d.output() == DestinationDefinition.Output.FHIR && !resources.containsKey(row.messageId())) {
                // journaled without resources (issue 16): rendered from the usage as its spec says
                outputs = rendered.get(row.messageId(), id -> renderer.json(usage, opened.spec()));
            }
            payload = payloads.render(d, row.id(), row.messageId(), usage, outputs, row.releaseLine());
        } catch (DeliveryException e) {
            return new Attempt(failed(d, row, started, t0, e.permanent(), e.code(), e.getMessage()), null);
        } catch (FhirRenderer.UnknownVersionException e) { // journaled by a newer hub: a node that knows it renders it
            return new Attempt(failed(d, row, started, t0, false, "RENDER-VERSION", e.getMessage()), null);
        } catch (RuntimeException e) { // the same journaled usage fails the same way every time
            return new Attempt(failed(d, row, started, t0, true, "RENDER", "cannot render: " + reason(e)), null);
        } catch (Throwable e) { // an Error (out of memory, stack overflow) says little about the message
            health.fatal(d.name(), e);
            log.error("Destination {}: outbox row {} (message {}): {} while rendering", d.name(), row.id(),
                    row.messageId(), e.getClass().getName());
            return new Attempt(failed(d, row, started, t0, false, "ERROR", "render failed: " + reason(e)), null);
        }
        try {
            if (payload == null) {
                return new Attempt(Settlement.delivered(row, started, elapsedMs(t0), "NOTHING-OWED"), null);
            }
            String code = connectors.get(d.connector()).send(d, payload);
            return new Attempt(Settlement.delivered(row, started, elapsedMs(t0), code), true);
        } catch (DeliveryException e) {
            return new Attempt(failed(d, row, started, t0, e.permanent(), e.code(), e.getMessage()),
                    e.permanent() ? null : false);
        } catch (Throwable e) { // unexpected: counted and journaled like any failed send, within the same limits
            if (e instanceof Error) {
                health.fatal(d.name(), e);
                log.error("Destination {}: outbox row {} (message {}): {} while sending", d.name(), row.id(),
                        row.messageId(), e.getClass().getName());
            }
            return new Attempt(failed(d, row, started, t0, false, "ERROR", "send failed: " + reason(e)), false);
        }
    }

    /**
     * The row's usage, opened and parsed once per message: by this node's journal when it committed it,
     * else by the first of its destinations' senders (they claim it at the same moment, and the ones that
     * come while the first parses it wait for that). Every row's own stored value is checked: served from
     * {@link OpenedUsages} only if it is, byte for byte, the value opened there; any other is decrypted and
     * parsed on its own. Decrypting stays outside the cache's lock: it may read the data-key table, and a
     * wait there would hold up other messages' senders too.
     */
    private Opened opened(Claimed row) {
        Opened cached = usages.get(row.messageId(), row.storedUsage());
        if (cached != null) {
            return cached;
        }
        String usageJson = outbox.openUsage(row); // throws for this row alone: tampered, or no data key
        Opened parsed = usages.get(row.messageId(), id -> parse(row, usageJson));
        return parsed.stored().equals(row.storedUsage()) ? parsed : parse(row, usageJson);
    }

    /** The decrypted usage parsed, with its render spec ({@link UnreadableUsage} if it cannot be read). */
    private Opened parse(Claimed row, String usageJson) {
        try {
            return Opened.of(row.storedUsage(), parse(usageJson), usageJson);
        } catch (RuntimeException e) {
            throw new UnreadableUsage(e);
        }
    }

    /** A usage that decrypted but cannot be read: it never will be. */
    private static final class UnreadableUsage extends RuntimeException {
        UnreadableUsage(RuntimeException cause) {
            super(cause);
        }
    }

    /**
     * What a journal may say about an unexpected failure: the exception classes down to the root
     * cause, never their messages (a parser's message can quote the content it choked on).
     */
    static String reason(Throwable e) {
        StringBuilder s = new StringBuilder(e.getClass().getName());
        Throwable cause = e.getCause();
        for (int depth = 0; cause != null && cause != e && depth < 5; depth++, cause = cause.getCause()) {
            s.append(" ← ").append(cause.getClass().getName());
        }
        return s.toString();
    }

    private SupplyUsage parse(String usageJson) {
        try {
            return json.readValue(usageJson, SupplyUsage.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Settlement failed(DestinationDefinition d, Claimed row, Instant started, long t0, boolean permanent,
                                     String code, String detail) {
        return failedAfter(d, row, started, elapsedMs(t0), permanent, code, detail);
    }

    private static Settlement failedAfter(DestinationDefinition d, Claimed row, Instant started, long durationMs,
                                     boolean permanent, String code, String detail) {
        String limit = permanent ? null : giveUp(d, row, Instant.now());
        boolean dead = permanent || limit != null;
        return new Settlement(row, started, durationMs, dead ? Outcome.DEAD : Outcome.RETRY, code,
                limit == null ? detail : detail + " (" + limit + ")",
                dead ? null : Instant.now().plus(backoff(d, row.attempt())));
    }

    private static long elapsedMs(long t0) {
        return (System.nanoTime() - t0) / 1_000_000;
    }

    /** Why a passing failure is not retried again, or null while the destination's limits allow it. */
    static String giveUp(DestinationDefinition d, Claimed row, Instant now) {
        if (row.attempt() >= d.maxAttempts()) {
            return "gave up after " + row.attempt() + " attempts";
        }
        if (!row.dueSince().plus(d.maxAge()).isAfter(now)) {
            return "gave up: older than maxAge " + d.maxAge();
        }
        return null;
    }

    /** initial × 2^(attempt−1), capped, with "equal jitter" so retries from many rows spread out. */
    static Duration backoff(DestinationDefinition d, int attempt) {
        long base = d.initialBackoff().toMillis() << Math.min(20, Math.max(0, attempt - 1));
        long capped = Math.min(base, d.maxBackoff().toMillis());
        long jittered = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
        return Duration.ofMillis(jittered);
    }
}
