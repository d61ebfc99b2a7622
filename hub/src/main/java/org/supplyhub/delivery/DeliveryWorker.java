package org.supplyhub.delivery;

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
import org.supplyhub.mapping.SupplyUsage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * Drains one destination's outbox: claim due rows, render, send, then mark delivered, schedule a
 * retry (exponential backoff with jitter) or mark dead after the destination's limit. Every attempt
 * is journaled, without message content.
 */
@Service
public class DeliveryWorker {

    private static final Logger log = LoggerFactory.getLogger(DeliveryWorker.class);

    private final OutboxRepository outbox;
    private final Payloads payloads;
    private final Map<Connector.Kind, Connector> connectors;
    private final ObjectMapper json;
    private final MeterRegistry meters;
    /** Per destination: a destination that hangs ties up only its own senders. */
    private final Map<String, ExecutorService> senders = new ConcurrentHashMap<>();
    private final int sendersPerDestination;
    /**
     * Parsed usage by message id. A message's usage never changes once journaled, and its
     * destinations claim it within moments of each other, so one parse serves all of them.
     */
    private final Cache<Long, SupplyUsage> usages = Caffeine.newBuilder()
            .maximumSize(5_000).expireAfterAccess(Duration.ofMinutes(1)).build();

    public DeliveryWorker(OutboxRepository outbox, Payloads payloads, FileConnector file, HttpConnector http,
                          MllpConnector mllp, FhirConnector fhir, ObjectMapper json, MeterRegistry meters,
                          @Value("${hub.delivery.senders:8}") int sendersPerDestination) {
        this.sendersPerDestination = sendersPerDestination;
        this.outbox = outbox;
        this.payloads = payloads;
        this.connectors = Map.of(Connector.Kind.FILE, file, Connector.Kind.HTTP, http, Connector.Kind.MLLP, mllp,
                Connector.Kind.FHIR, fhir);
        this.json = json;
        this.meters = meters;
    }

    /**
     * One pass over the due rows; returns how many were claimed (the caller polls again soon if any).
     * A claim holds at most one row per account, so its rows go out in parallel without breaking
     * any account's order; the pass ends when all of them are settled, in one transaction.
     */
    public int poll(DestinationDefinition destination) {
        List<Claimed> rows = outbox.claim(destination.name(), destination.batchSize(), destination.lease());
        if (rows.isEmpty()) {
            return 0;
        }
        Map<Long, List<String>> resources = destination.output() == DestinationDefinition.Output.FHIR
                ? outbox.resources(rows.stream().map(Claimed::messageId).collect(Collectors.toSet())) : Map.of();
        List<Settlement> settled = new ArrayList<>(rows.size());
        if (rows.size() == 1) {
            settled.add(deliver(destination, rows.get(0), resources));
        } else {
            ExecutorService pool = senders.computeIfAbsent(destination.name(), this::newSenders);
            List<Future<Settlement>> sends = new ArrayList<>(rows.size());
            for (Claimed row : rows) {
                sends.add(pool.submit(() -> deliver(destination, row, resources)));
            }
            for (Future<Settlement> send : sends) {
                try {
                    settled.add(send.get());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break; // rows left unsettled are due again when the lease runs out
                } catch (ExecutionException e) {
                    log.warn("Destination {}: a send failed outside its handler: {}", destination.name(),
                            e.getCause().getClass().getSimpleName());
                }
            }
        }
        outbox.settle(settled);
        for (Settlement s : settled) {
            meters.counter("hub.deliveries", "destination", destination.name(), "outcome", s.outcome().name()).increment();
            if (s.outcome() == Outcome.DEAD) {
                log.warn("Destination {}: outbox row {} (message {}) is dead after {} attempts: {}", destination.name(),
                        s.row().id(), s.row().messageId(), s.row().attempt(), s.detail());
            }
        }
        return rows.size();
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
        senders.values().forEach(ExecutorService::shutdownNow);
    }

    private Settlement deliver(DestinationDefinition d, Claimed row, Map<Long, List<String>> resources) {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        try {
            SupplyUsage usage = usages.get(row.messageId(), id -> parse(row.usageJson()));
            Connector.Payload payload = payloads.render(d, row.id(), row.messageId(), usage,
                    resources.getOrDefault(row.messageId(), List.of()));
            String code = payload == null ? "NOTHING-OWED" : connectors.get(d.connector()).send(d, payload);
            return Settlement.delivered(row, started, elapsedMs(t0), code);
        } catch (DeliveryException e) {
            return failed(d, row, started, t0, e.permanent(), e.code(), e.getMessage());
        } catch (Exception e) {
            log.warn("Destination {}: outbox row {} failed unexpectedly ({})", d.name(), row.id(),
                    e.getClass().getSimpleName());
            return failed(d, row, started, t0, false, "ERROR", e.getClass().getSimpleName());
        }
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
        String limit = permanent ? null : giveUp(d, row, Instant.now());
        boolean dead = permanent || limit != null;
        return new Settlement(row, started, elapsedMs(t0), dead ? Outcome.DEAD : Outcome.RETRY, code,
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
