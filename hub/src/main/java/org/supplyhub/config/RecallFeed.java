package org.supplyhub.config;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.supplyhub.mapping.ConfigurationException;
import org.supplyhub.safety.recall.RecallList;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The recall list fetched from a URL on a schedule ({@code hub.safety.recalls.url}, every
 * {@code interval}): the same CSV as {@code mappings/recalls.csv} ({@code text/csv}) or a FHIR
 * {@code List} (JSON). A failed fetch or a body with any problem keeps the last good list, counts
 * {@code hub_recall_fetch_failures_total} and is logged with the URL's host and the problem's
 * location only (a list names devices, never patients, but the body is not logged either).
 * {@code hub_recall_fetch_age_seconds}: seconds since the last good fetch (−1 before the first).
 */
public final class RecallFeed implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RecallFeed.class);

    /**
     * The largest list body read (more: a failed fetch). A CSV row is about 100 bytes, so 16 MB is some
     * 160,000 rows, far above any recall list; the cap keeps a misbehaving source from filling the heap.
     */
    static final int MAX_BODY_BYTES = 16 * 1024 * 1024;

    /**
     * {@code hub.safety.recalls.*}: where the list is fetched from (none: no fetch), how often, how long a
     * fetch may take, and a bearer token if the source wants one (from the environment, never the repo).
     */
    @org.springframework.boot.context.properties.ConfigurationProperties("hub.safety.recalls")
    public record Settings(URI url, Duration interval, Duration timeout, String bearerToken) {
        public Settings {
            interval = interval == null ? Duration.ofHours(1) : interval;
            timeout = timeout == null ? Duration.ofSeconds(30) : timeout;
        }
    }

    /** What the last fetch did: the list in use, when it was fetched, and the last failure (null after a success). */
    public record Status(RecallList list, Instant lastGood, Instant lastAttempt, String lastFailure) { }

    private final Settings settings;
    private final HttpClient http;
    private final AtomicReference<Status> status = new AtomicReference<>(new Status(RecallList.EMPTY, null, null, null));
    private final Counter failures;
    private ScheduledExecutorService scheduler;

    public RecallFeed(Settings settings, MeterRegistry meters) {
        this.settings = settings;
        // no redirects: the request carries the bearer token, which must not follow a redirect to another
        // host; a moved list is a configuration change (a 3xx is a failed fetch, the last good list stays)
        this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).followRedirects(HttpClient.Redirect.NEVER).build();
        this.failures = Counter.builder("hub.recall.fetch.failures")
                .description("Recall list fetches that failed or returned a list with problems (the last good list stays)")
                .register(meters);
        Gauge.builder("hub.recall.fetch.age", this, feed -> {
                    Instant good = feed.status.get().lastGood();
                    return good == null ? -1 : Duration.between(good, Instant.now()).toMillis() / 1000.0;
                }).baseUnit("seconds").description("Seconds since the recall list was last fetched successfully (-1: never)")
                .register(meters);
    }

    /** Fetches now, then every interval, on a thread of its own. */
    public synchronized void start() {
        if (scheduler != null || settings.url() == null) {
            return;
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "recall-fetch");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::fetchQuietly, 0, settings.interval().toMillis(), TimeUnit.MILLISECONDS);
    }

    public Status status() {
        return status.get();
    }

    /** The last good fetched list (empty before the first). */
    public RecallList list() {
        return status.get().list();
    }

    private void fetchQuietly() {
        try {
            fetch();
        } catch (RuntimeException e) {
            log.error("Recall list fetch: unexpected {}", e.getClass().getName());
        }
    }

    /** One fetch; returns true if it replaced the list. */
    public boolean fetch() {
        Instant at = Instant.now();
        String host = settings.url().getHost();
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(settings.url()).timeout(settings.timeout())
                    .header("Accept", "text/csv, application/fhir+json;q=0.9, application/json;q=0.8").GET();
            if (settings.bearerToken() != null && !settings.bearerToken().isBlank()) {
                request.header("Authorization", "Bearer " + settings.bearerToken());
            }
            HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            byte[] bytes;
            try (InputStream in = response.body()) {
                if (response.statusCode() != 200) {
                    return failed(at, "HTTP " + response.statusCode());
                }
                bytes = in.readNBytes(MAX_BODY_BYTES + 1);
            }
            if (bytes.length > MAX_BODY_BYTES) {
                return failed(at, "body larger than " + MAX_BODY_BYTES / (1024 * 1024) + " MB");
            }
            String body = new String(bytes, StandardCharsets.UTF_8);
            String type = response.headers().firstValue("Content-Type").orElse("").toLowerCase(Locale.ROOT);
            // the URL without user info or query (either may carry a credential)
            URI url = settings.url();
            String source = url.getScheme() + "://" + host + (url.getPort() > 0 ? ":" + url.getPort() : "") + url.getPath();
            RecallList list = type.contains("json") || body.stripLeading().startsWith("{")
                    ? RecallList.parseFhirList(body, source) : RecallList.parseCsv(body, source);
            status.set(new Status(list, at, at, null));
            log.info("Recall list fetched from {}: {} rows", host, list.size());
            return true;
        } catch (ConfigurationException e) {
            // file/line/entry and the problem name columns and recall rows, never a patient
            e.problems().stream().limit(20).forEach(p -> log.warn("Recall list from {} refused: {}", host, p));
            return failed(at, e.problems().size() + " problem(s), first: " + e.problems().get(0));
        } catch (IOException e) {
            return failed(at, e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(at, "interrupted");
        }
    }

    private boolean failed(Instant at, String why) {
        failures.increment();
        Status previous = status.get();
        status.set(new Status(previous.list(), previous.lastGood(), at, why));
        log.warn("Recall list fetch from {} failed ({}); keeping the list of {} ({} rows)", settings.url().getHost(),
                why, previous.lastGood() == null ? "never" : previous.lastGood(), previous.list().size());
        return false;
    }

    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdownNow();
            scheduler = null;
        }
    }
}
