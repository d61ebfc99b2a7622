package org.supplyhub.delivery;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.supplyhub.delivery.OutboxRepository.Claimed;
import org.supplyhub.mapping.SupplyUsage;

import jakarta.annotation.PreDestroy;
import org.springframework.beans.factory.annotation.Value;

import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

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
    private final ExecutorService senders;

    public DeliveryWorker(OutboxRepository outbox, Payloads payloads, FileConnector file, HttpConnector http,
                          MllpConnector mllp, FhirConnector fhir, ObjectMapper json, MeterRegistry meters,
                          @Value("${hub.delivery.senders:8}") int senderThreads) {
        this.senders = Executors.newFixedThreadPool(senderThreads, r -> {
            Thread t = new Thread(r, "delivery-sender");
            t.setDaemon(true);
            return t;
        });
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
     * any account's order; the pass ends when all of them are settled.
     */
    public int poll(DestinationDefinition destination) {
        List<Claimed> rows = outbox.claim(destination.name(), destination.batchSize(), destination.lease());
        if (rows.size() == 1) {
            deliver(destination, rows.get(0));
        } else if (!rows.isEmpty()) {
            List<Future<?>> sends = new ArrayList<>(rows.size());
            for (Claimed row : rows) {
                sends.add(senders.submit(() -> deliver(destination, row)));
            }
            for (Future<?> send : sends) {
                try {
                    send.get();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return rows.size(); // rows left leased are due again when the lease runs out
                } catch (ExecutionException e) {
                    log.warn("Destination {}: a send failed outside its handler: {}", destination.name(),
                            e.getCause().getClass().getSimpleName());
                }
            }
        }
        return rows.size();
    }

    @PreDestroy
    void stop() {
        senders.shutdownNow();
    }

    private void deliver(DestinationDefinition d, Claimed row) {
        Instant started = Instant.now();
        long t0 = System.nanoTime();
        String outcome;
        String code;
        String detail = null;
        try {
            SupplyUsage usage = json.readValue(outbox.usageJson(row.messageId()), SupplyUsage.class);
            List<String> resources = d.output() == DestinationDefinition.Output.FHIR ? outbox.resources(row.messageId()) : List.of();
            Connector.Payload payload = payloads.render(d, row.id(), row.messageId(), usage, resources);
            code = payload == null ? "NOTHING-OWED" : connectors.get(d.connector()).send(d, payload);
            outbox.delivered(row.id());
            outcome = "DELIVERED";
        } catch (DeliveryException e) {
            code = e.code();
            detail = e.getMessage();
            outcome = giveUp(d, row, e.permanent()) ? "DEAD" : "RETRY";
            if (outcome.equals("DEAD")) {
                outbox.dead(row.id(), detail);
                log.warn("Destination {}: outbox row {} (message {}) is dead after {} attempts: {}", d.name(), row.id(),
                        row.messageId(), row.attempt(), detail);
            } else {
                outbox.retryAt(row.id(), Instant.now().plus(backoff(d, row.attempt())), detail);
            }
        } catch (Exception e) {
            code = "ERROR";
            detail = e.getClass().getSimpleName();
            outcome = giveUp(d, row, false) ? "DEAD" : "RETRY";
            if (outcome.equals("DEAD")) {
                outbox.dead(row.id(), detail);
            } else {
                outbox.retryAt(row.id(), Instant.now().plus(backoff(d, row.attempt())), detail);
            }
            log.warn("Destination {}: outbox row {} failed unexpectedly ({})", d.name(), row.id(), detail);
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        outbox.attempt(row.id(), row.attempt(), started, ms, outcome, code, detail);
        meters.counter("hub.deliveries", "destination", d.name(), "outcome", outcome).increment();
    }

    private static boolean giveUp(DestinationDefinition d, Claimed row, boolean permanent) {
        return permanent || row.attempt() >= d.maxAttempts();
    }

    /** initial × 2^(attempt−1), capped, with "equal jitter" so retries from many rows spread out. */
    static Duration backoff(DestinationDefinition d, int attempt) {
        long base = d.initialBackoff().toMillis() << Math.min(20, Math.max(0, attempt - 1));
        long capped = Math.min(base, d.maxBackoff().toMillis());
        long jittered = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
        return Duration.ofMillis(jittered);
    }
}
