package org.supplyhub.config;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.supplyhub.safety.recall.RecallList;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The fetched recall list against a real local HTTP server: a failure or a bad body keeps the last good list. */
class RecallFeedTest {

    static final String KNEE = "00889024123458";
    static final String CSV = "di,lots,serial_from,serial_to,recall_number,class,date,text\n"
            + KNEE + ",LOT1,,,Z-1-2026,II,2026-10-02,Seal\n";

    final AtomicInteger status = new AtomicInteger(200);
    final AtomicReference<String> type = new AtomicReference<>("text/csv");
    final AtomicReference<String> body = new AtomicReference<>(CSV);
    final AtomicReference<String> authorization = new AtomicReference<>();
    final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    HttpServer server;

    RecallFeed start(String token) throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/moved", exchange -> {
            authorization.set(exchange.getRequestHeaders().getFirst("Authorization"));
            exchange.getResponseHeaders().add("Location", "/recalls");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        server.createContext("/huge", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "text/csv");
            exchange.sendResponseHeaders(200, 0); // chunked: no length to refuse up front
            byte[] comment = ("#" + "x".repeat(1022) + "\n").getBytes(StandardCharsets.US_ASCII);
            try (var out = exchange.getResponseBody()) {
                out.write(CSV.getBytes(StandardCharsets.UTF_8));
                for (int i = 0; i <= RecallFeed.MAX_BODY_BYTES / comment.length; i++) {
                    out.write(comment);
                }
            } catch (java.io.IOException e) {
                // the hub stops reading at the cap and closes the connection
            }
            exchange.close();
        });
        server.createContext("/recalls", exchange -> {
            authorization.set(exchange.getRequestHeaders().getFirst("Authorization"));
            byte[] bytes = body.get().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", type.get());
            exchange.sendResponseHeaders(status.get(), bytes.length);
            exchange.getResponseBody().write(bytes);
            exchange.close();
        });
        server.start();
        return feed(server, "/recalls", token);
    }

    RecallFeed feed(HttpServer on, String path, String token) {
        URI url = URI.create("http://127.0.0.1:" + on.getAddress().getPort() + path);
        return new RecallFeed(new RecallFeed.Settings(url, Duration.ofHours(1), Duration.ofSeconds(5), token), meters);
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
        }
    }

    double failures() {
        return meters.get("hub.recall.fetch.failures").counter().count();
    }

    double age() {
        return meters.get("hub.recall.fetch.age").gauge().value();
    }

    @Test
    void aFailedFetchOrABadBodyKeepsTheLastGoodList() throws Exception {
        RecallFeed feed = start("s3cret");
        assertThat(age()).isEqualTo(-1);
        assertThat(feed.fetch()).isTrue();
        assertThat(authorization.get()).isEqualTo("Bearer s3cret");
        assertThat(feed.list().find(KNEE, "LOT1", null)).isPresent();
        assertThat(age()).isBetween(0.0, 60.0); // seconds since that fetch, on a loaded machine
        assertThat(failures()).isZero();

        status.set(503);
        assertThat(feed.fetch()).isFalse();
        assertThat(feed.status().lastFailure()).isEqualTo("HTTP 503");
        assertThat(feed.list().find(KNEE, "LOT1", null)).isPresent();
        assertThat(failures()).isEqualTo(1);

        status.set(200);
        body.set(CSV + KNEE + ",,,,Z-2-2026,IV,2026-10-02,bad class\n");
        assertThat(feed.fetch()).isFalse();
        assertThat(feed.status().lastFailure()).contains("line 3: class must be I, II or III");
        assertThat(feed.list().find(KNEE, "LOT1", null)).isPresent();
        assertThat(failures()).isEqualTo(2);

        server.stop(0); // the source is gone
        assertThat(feed.fetch()).isFalse();
        assertThat(feed.list().size()).isOne();
        assertThat(failures()).isEqualTo(3);
        assertThat(feed.status().lastGood()).isNotNull();
    }

    @Test
    void anEmptyBodyDoesNotWipeTheFetchedRecallsButAHeaderAloneDoes() throws Exception {
        RecallFeed feed = start(null);
        assertThat(feed.fetch()).isTrue();
        body.set(""); // a misbehaving proxy's empty 200
        assertThat(feed.fetch()).isFalse();
        assertThat(feed.status().lastFailure()).contains("no header line");
        assertThat(feed.list().find(KNEE, "LOT1", null)).isPresent();
        assertThat(failures()).isEqualTo(1);
        body.set(CSV.substring(0, CSV.indexOf('\n') + 1)); // the source's list is empty today
        assertThat(feed.fetch()).isTrue();
        assertThat(feed.list().size()).isZero();
        assertThat(failures()).isEqualTo(1);
    }

    @Test
    void aRedirectIsNotFollowedWithTheTokenAndAnOversizedBodyIsRefused() throws Exception {
        RecallFeed feed = start("s3cret");
        assertThat(feed.fetch()).isTrue();
        authorization.set(null);
        RecallFeed moved = feed(server, "/moved", "s3cret");
        assertThat(moved.fetch()).isFalse();
        assertThat(moved.status().lastFailure()).isEqualTo("HTTP 302");
        // the configured URL was asked; had the redirect been followed, /recalls would have answered 200
        assertThat(authorization.get()).isEqualTo("Bearer s3cret");

        RecallFeed huge = feed(server, "/huge", null);
        assertThat(huge.fetch()).isFalse();
        assertThat(huge.status().lastFailure()).isEqualTo("body larger than 16 MB");
        assertThat(huge.list().size()).isZero();
    }

    @Test
    void aFhirListBodyReplacesTheList() throws Exception {
        RecallFeed feed = start(null);
        type.set("application/fhir+json");
        body.set("""
                {"resourceType":"List","status":"current","mode":"working","entry":[
                 {"extension":[{"url":"%1$srecall-number","valueString":"Z-9-2026"},
                               {"url":"%1$srecall-serial-from","valueString":"SN0100"},
                               {"url":"%1$srecall-serial-to","valueString":"SN0199"}],
                  "flag":{"coding":[{"code":"I"}]},"date":"2026-09-14",
                  "item":{"identifier":{"value":"%2$s"},"display":"Battery"}}]}""".formatted(RecallList.EXTENSION_BASE, KNEE));
        assertThat(feed.fetch()).isTrue();
        assertThat(authorization.get()).isNull();
        assertThat(feed.list().find(KNEE, null, "SN0150").orElseThrow().number()).isEqualTo("Z-9-2026");
        assertThat(feed.list().source()).startsWith("http://127.0.0.1:");
    }

    @Test
    void theIndexTheChecksSeeIsTheFileListAndTheFetchedListTogether(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        RecallFeed feed = start(null);
        assertThat(feed.fetch()).isTrue();
        java.nio.file.Path routes = java.nio.file.Files.createDirectories(dir.resolve("routes"));
        java.nio.file.Path mappings = java.nio.file.Files.createDirectories(dir.resolve("mappings"));
        java.nio.file.Files.writeString(mappings.resolve(RecallList.FILE), CSV.replace(",LOT1,", ",LOT2,")
                .replace("Z-1-2026,II", "Z-5-2026,I"));
        RunningConfig running = new RunningConfig(ConfigSnapshot.load(routes, mappings));
        CurrentRecalls index = new CurrentRecalls(running, feed);
        assertThat(index.find(KNEE, "LOT1", null).orElseThrow().number()).isEqualTo("Z-1-2026"); // fetched
        assertThat(index.find(KNEE, "LOT2", null).orElseThrow().number()).isEqualTo("Z-5-2026"); // file
        assertThat(index.find(KNEE, "LOT3", null)).isEmpty();
    }
}
