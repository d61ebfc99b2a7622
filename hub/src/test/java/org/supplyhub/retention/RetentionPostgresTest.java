package org.supplyhub.retention;

import org.supplyhub.support.JournalColumns;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Primary;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.admin.MessageQueries;
import org.supplyhub.journal.Journal;
import org.supplyhub.journal.MessageStatus;
import org.supplyhub.journal.ReceivedMessage;
import org.supplyhub.support.Await;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Retention on PostgreSQL, in the running hub, with a clock the test moves: messages past their
 * interface's period whose deliveries are all DELIVERED (and rejected or superseded ones) lose their
 * content; pending, dead and unresolved ones keep it; metadata, hashes, the device index and the audit
 * trail stay; the admin API answers 410 for purged content; intake goes on while a large purge runs.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureObservability
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class) // the second's messages would be due in the first's "31 days on"
class RetentionPostgresTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @TestConfiguration
    static class Time {
        @Bean
        @Primary
        MutableClock testClock() {
            return new MutableClock();
        }
    }

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    JournalKeys keys;
    @Autowired
    RetentionPurge purge;
    @Autowired
    MutableClock clock;
    @Autowired
    Journal journal;
    @Autowired
    MessageQueries queries;
    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.config.watch", () -> "false");
        registry.add("hub.retention.schedule", () -> "-"); // the test runs the purge when it says
        registry.add("hub.retention.default", () -> "30d");
        registry.add("hub.retention.interfaces.lakeside-cath", () -> "7d");
    }

    @AfterEach
    void backToNow() {
        clock.reset();
    }

    @Test
    @Order(1)
    void deliveredMessagesPastTheirPeriodLoseTheirContentAndNothingElseDoes() throws Exception {
        // delivered, through the real intake and the file destinations
        String mercy = unique(Samples.read(Samples.MERCY), "mercy");
        assertThat(post("mercy-or", mercy)).contains("MSA|AA");
        long delivered = accepted(Samples.controlId(mercy));
        String lakeside = unique(Samples.read(Samples.LAKESIDE), "lakeside");
        assertThat(post("lakeside-cath", lakeside)).contains("MSA|AA");
        long lakesideId = accepted(Samples.controlId(lakeside));
        // an unmapped message (AE), left unresolved
        String unresolved = unique(Samples.read(Samples.MERCY), "mercy").replace("(01)00889024123458", "(01)00889024123459");
        assertThat(post("mercy-or", unresolved)).contains("MSA|AE");
        long liveError = idOf(Samples.controlId(unresolved), "ERROR");
        // an AE the sender fixed: the corrected resend supersedes it and is delivered
        String fixed = unique(Samples.read(Samples.MERCY), "mercy");
        String broken = fixed.replace("(01)00889024123458", "(01)00889024123459");
        assertThat(post("mercy-or", broken)).contains("MSA|AE");
        long supersededError = idOf(Samples.controlId(broken), "ERROR");
        assertThat(post("mercy-or", fixed)).contains("MSA|AA");
        long fixedId = accepted(Samples.controlId(fixed));
        // rejected (AR): never accepted, owes nothing
        String adt = "MSH|^~\\&|ORMGR|MERCY_OR|SUPPLYHUB|HUB|20261114093512||ADT^A01|R" + UUID.randomUUID()
                .toString().substring(0, 8) + "|P|2.5.1\rPID|1||MRN448812^^^MERCY^MR||VALDEZ^ROSA\r";
        assertThat(post("mercy-or", adt)).contains("MSA|AR");
        long rejected = jdbc.queryForObject("select max(id) from message where status = 'REJECTED'", Long.class);
        // owed to a destination that has not taken it (pending), and one whose delivery died (DEAD)
        long pending = journal.accept(parked("P"));
        long dead = journal.accept(parked("X"));
        jdbc.update("update outbox set status = 'DEAD', attempts = 10, last_error = 'gave up' where message_id = ?", dead);

        Await.until(() -> allDelivered(delivered) && allDelivered(lakesideId) && allDelivered(fixedId), 60);
        Map<String, Object> before = row(delivered);
        byte[] pendingRaw = (byte[]) row(pending).get("raw");
        int ingestAudits = count("select count(*) from audit_event where action = 'INGEST' and message_id in (?, ?)",
                delivered, lakesideId);
        int devices = count("select count(*) from device_use where message_id = ?", delivered);
        assertThat(devices).isOne();
        // delivered's FHIR resources are rendered from its usage; fixed's were stored with it, as a hub
        // before issue 16 journaled them: the purge leaves neither
        assertThat(queries.outputs(delivered)).hasSize(7);
        for (MessageQueries.Output o : queries.outputs(fixedId)) {
            jdbc.update("insert into message_output (message_id, line_no, resource_type, resource_id, resource_json)"
                    + " values (?, ?, ?, ?, ?)", fixedId, o.lineNo(), o.resourceType(), o.resourceId(),
                    keys.sealText(Column.OUTPUT_RESOURCE, o.resource()));
        }
        assertThat(count("select count(*) from message_output where message_id = ?", fixedId)).isEqualTo(7);

        // 8 days on: only lakeside (7 days) is due; mercy keeps 30
        clock.advance(Duration.ofDays(8));
        RetentionPurge.Run first = purge.run();
        assertThat(purged(lakesideId)).isTrue();
        assertThat(purged(delivered)).isFalse();
        assertThat(first.purged()).containsEntry("lakeside-cath", 1).doesNotContainKey("mercy-or");

        // 31 days on: the rest that owes nothing
        clock.advance(Duration.ofDays(23));
        RetentionPurge.Run second = purge.run();
        assertThat(second.purged().get("mercy-or")).isEqualTo(4); // delivered, fixed, superseded AE, rejected
        for (long id : List.of(delivered, fixedId, supersededError, rejected)) {
            assertThat(purged(id)).as("message %d", id).isTrue();
            Map<String, Object> r = row(id);
            assertThat(new String((byte[]) r.get("raw"), StandardCharsets.US_ASCII)).isEqualTo(RetentionPurge.TOMBSTONE);
            assertThat(r.get("usage_json")).isNull();
            assertThat(r.get("error")).isNull();
            assertThat(count("select count(*) from message_output where message_id = ?", id)).isZero();
            assertThat(queries.outputs(id)).as("nothing left to render").isEmpty();
        }
        for (long id : List.of(pending, dead, liveError)) {
            assertThat(purged(id)).as("message %d", id).isFalse();
        }
        assertThat(row(pending).get("raw")).isEqualTo(pendingRaw);
        assertThat(row(liveError).get("error")).isNotNull();
        assertThat(row(dead).get("usage_json")).isNotNull();

        // what stays: metadata, hashes, keys, the ACK a resend is answered with, outbox, device index, audit
        Map<String, Object> after = row(delivered);
        for (String column : List.of("interface_id", "sender", "control_id", "status", "received_at", "content_hash",
                "patient_key", "account_key", "ack", "ack_code", "line_count", "dedup_key")) {
            assertThat(after.get(column)).as(column).isEqualTo(before.get(column));
        }
        assertThat(row(rejected).get("ack")).isEqualTo(RetentionPurge.TOMBSTONE);
        assertThat(count("select count(*) from outbox where message_id = ? and status = 'DELIVERED'", delivered)).isEqualTo(3);
        assertThat(count("select count(*) from device_use where message_id = ?", delivered)).isEqualTo(devices);
        assertThat(count("select count(*) from audit_event where action = 'INGEST' and message_id in (?, ?)",
                delivered, lakesideId)).isEqualTo(ingestAudits);
        assertThat(jdbc.queryForList("select detail from audit_event where action = 'RETENTION_PURGE'"
                + " and interface_id = 'mercy-or' and actor = 'system:retention'", String.class))
                .anyMatch(d -> d.startsWith("4 messages' content purged; retention: content kept 30 days")
                        && d.contains("hub.retention.default"));
        // a late resend of a purged message is still recognised: the original AA, nothing new
        int messages = count("select count(*) from message");
        assertThat(post("mercy-or", mercy)).isEqualTo(new JournalColumns(jdbc, keys).open(Column.MESSAGE_ACK, before.get("ack")));
        assertThat(count("select count(*) from message")).isEqualTo(messages);

        // the admin API: the summary says purged; raw and outputs are 410 with when and why
        String reader = Tokens.sample(port, Tokens.ADMIN, "messages:read");
        JsonNode summary = JSON.readTree(get("/api/messages/" + delivered, reader).body());
        assertThat(summary.path("message").path("purged").path("reason").asText()).contains("30 days");
        assertThat(summary.path("message").path("purged").path("at").asText()).isNotEmpty();
        assertThat(summary.path("deliveries")).hasSize(3);
        for (String part : List.of("raw", "outputs")) {
            HttpResponse<String> gone = get("/api/messages/" + delivered + "/" + part, reader);
            assertThat(gone.statusCode()).as(part).isEqualTo(410);
            assertThat(gone.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
            JsonNode problem = JSON.readTree(gone.body());
            assertThat(problem.path("title").asText()).isEqualTo("Message content purged");
            assertThat(problem.path("purgedAt").asText()).isEqualTo(summary.path("message").path("purged").path("at").asText());
            assertThat(problem.path("reason").asText()).contains("hub.retention.default");
        }
        assertThat(get("/api/messages/" + liveError + "/raw", reader).statusCode()).isEqualTo(200);
        HttpResponse<String> reprocess = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/api/messages/" + delivered
                        + "/reprocess")).header("Authorization", "Bearer " + Tokens.sample(port, Tokens.ADMIN, "messages:replay"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(reprocess.statusCode()).isEqualTo(410);

        // the metric, as Prometheus scrapes it
        String scrape = get("/actuator/prometheus", Tokens.sample(port, Tokens.ADMIN, "metrics:read")).body();
        assertThat(scrape).containsPattern("hub_retention_purged_total\\{[^}]*interface=\"mercy-or\"[^}]*} 4\\.0")
                .containsPattern("hub_retention_purged_total\\{[^}]*interface=\"lakeside-cath\"[^}]*} 1\\.0");

        // a second run finds nothing more to do
        assertThat(purge.run().total()).isZero();
    }

    @Test
    @Order(2)
    void intakeGoesOnWhileALargePurgeRuns() throws Exception {
        int old = 20_000;
        // old, delivered-nothing-owed messages of an interface no longer configured (the default period applies)
        jdbc.update("insert into message (interface_id, sender, control_id, dedup_key, message_type, hl7_version, status,"
                + " received_at, caller, charset, raw, ack_code, ack, usage_json, line_count, content_hash)"
                + " select 'retired-or', 'OLD^OLD', 'OLD' || g, 'retired-or|OLD^OLD|OLD' || g, 'DFT^P03', '2.5.1',"
                + " 'ACCEPTED', now() - interval '400 days', 'test', 'UTF-8', convert_to(repeat('PID|1||MRN' || g || '|', 40),"
                + " 'UTF8'), 'AA', 'MSA|AA', '{\"lines\":[]}', 1, md5(g::text) from generate_series(1, ?) g", old);
        jdbc.update("insert into message_output (message_id, line_no, resource_type, resource_id, resource_json)"
                + " select id, 1, 'SupplyDelivery', md5(id::text), '{}' from message where interface_id = 'retired-or'");

        int senders = 4;
        int perSender = 50;
        ExecutorService pool = Executors.newFixedThreadPool(senders + 1);
        try {
            // the same load with no purge running, for comparison
            List<Long> quiet = Collections.synchronizedList(new ArrayList<>());
            for (Future<List<String>> f : send(pool, senders, perSender, "quiet", quiet, new ArrayList<>())) {
                f.get();
            }
            long started = System.nanoTime();
            java.util.concurrent.atomic.AtomicLong purgeEnded = new java.util.concurrent.atomic.AtomicLong();
            Future<RetentionPurge.Run> run = pool.submit(() -> {
                RetentionPurge.Run r = purge.run();
                purgeEnded.set(System.nanoTime());
                return r;
            });
            List<Long> latencies = Collections.synchronizedList(new ArrayList<>());
            List<Long> acked = Collections.synchronizedList(new ArrayList<>());
            List<Future<List<String>>> sent = send(pool, senders, perSender, "during", latencies, acked);
            List<String> all = new ArrayList<>();
            for (Future<List<String>> f : sent) {
                all.addAll(f.get());
            }
            long intakeMillis = (System.nanoTime() - started) / 1_000_000;
            RetentionPurge.Run done = run.get();
            long purgeMillis = (System.nanoTime() - started) / 1_000_000;
            assertThat(done.purged()).containsEntry("retired-or", old);
            assertThat(count("select count(*) from message where interface_id = 'retired-or' and purged_at is null")).isZero();
            assertThat(count("select count(*) from message_output o join message m on m.id = o.message_id"
                    + " where m.interface_id = 'retired-or'")).isZero();
            // every message sent during the purge is journaled once, whole, and not purged (it is new)
            assertThat(all).hasSize(senders * perSender).doesNotHaveDuplicates();
            for (String controlId : all) {
                assertThat(count("select count(*) from message where control_id = ? and status = 'ACCEPTED'"
                        + " and purged_at is null and usage_json is not null", controlId)).as(controlId).isOne();
            }
            // the intake overlapped the purge: ACKs came while it ran
            long acksDuringPurge = acked.stream().filter(t -> t < purgeEnded.get()).count();
            assertThat(acksDuringPurge).isPositive();
            List<Long> q = quiet.stream().sorted().toList();
            List<Long> d = latencies.stream().sorted().toList();
            System.out.printf("retention: purged %d messages in %d ms (batches of 200); %d messages taken in %d ms,"
                            + " %d of them while the purge ran; ACK p50 %d ms, p95 %d ms during the purge vs p50 %d ms, p95 %d ms without%n", old,
                    purgeMillis, all.size(), intakeMillis, acksDuringPurge, d.get(d.size() / 2), d.get(d.size() * 95 / 100),
                    q.get(q.size() / 2), q.get(q.size() * 95 / 100));
            assertThat(count("select count(*) from audit_event where action = 'RETENTION_PURGE' and interface_id = 'retired-or'"))
                    .isBetween(old / 200, old / 200 + 1); // one per batch (a batch may straddle)
        } finally {
            pool.shutdownNow();
        }
    }

    /** {@code senders} MLLP connections, each sending {@code perSender} messages one after another; all must be AA. */
    List<Future<List<String>>> send(ExecutorService pool, int senders, int perSender, String prefix, List<Long> latencies,
                                    List<Long> acked) {
        List<Future<List<String>>> sent = new ArrayList<>();
        for (int s = 0; s < senders; s++) {
            sent.add(pool.submit(() -> {
                List<String> controlIds = new ArrayList<>();
                try (Mllp mllp = new Mllp(INTERFACES.ports.get("mercy-or"))) {
                    for (int i = 0; i < perSender; i++) {
                        String er7 = unique(Samples.read(Samples.MERCY), prefix);
                        long t0 = System.nanoTime();
                        String ack = mllp.send(er7, StandardCharsets.UTF_8);
                        long t1 = System.nanoTime();
                        latencies.add((t1 - t0) / 1_000_000);
                        acked.add(t1);
                        assertThat(ack).as(ack).contains("MSA|AA");
                        controlIds.add(Samples.controlId(er7));
                    }
                }
                return controlIds;
            }));
        }
        return sent;
    }

    // --- helpers

    /** A message accepted for a destination no worker drains: it stays owed. */
    static org.supplyhub.journal.Journal.Entry parked(String prefix) {
        String controlId = prefix + UUID.randomUUID().toString().substring(0, 12);
        ReceivedMessage m = ReceivedMessage.received("mercy-or", Instant.now(), "test", "UTF-8",
                        ("MSH|^~\\&|T|T|H|H|1||DFT^P03|" + controlId + "|P|2.5.1").getBytes(StandardCharsets.UTF_8))
                .header("T^T", controlId, "DFT^P03", "2.5.1").contentHash("h" + controlId)
                .answered(MessageStatus.ACCEPTED, "AA", "MSA|AA|" + controlId, null);
        return new Journal.Entry(m, "{\"lines\":[]}", 0, List.of("parked-nowhere"), null);
    }

    /** A fresh control id and a device serial of its own, so no implant check flags a reuse. */
    static String unique(String sample, String prefix) {
        String tag = UUID.randomUUID().toString().replace("-", "").substring(0, 10).toUpperCase();
        return Samples.withControlId(sample, prefix + tag)
                .replace("SN00042519", "SN" + tag).replace("21A11F4855", "S" + tag);
    }

    boolean allDelivered(long id) {
        return count("select count(*) from outbox where message_id = ? and status <> 'DELIVERED'", id) == 0
                && count("select count(*) from outbox where message_id = ?", id) > 0;
    }

    boolean purged(long id) {
        return jdbc.queryForObject("select purged_at from message where id = ?", java.sql.Timestamp.class, id) != null;
    }

    Map<String, Object> row(long id) {
        return jdbc.queryForMap("select * from message where id = ?", id);
    }

    long accepted(String controlId) {
        return idOf(controlId, "ACCEPTED");
    }

    long idOf(String controlId, String status) {
        return jdbc.queryForObject("select max(id) from message where control_id = ? and status = ?", Long.class,
                controlId, status);
    }

    int count(String sql, Object... args) {
        Integer n = jdbc.queryForObject(sql, Integer.class, args);
        return n == null ? 0 : n;
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }

    String post(String iface, String er7) throws Exception {
        String client = iface.startsWith("lakeside") ? Tokens.LAKESIDE : Tokens.MERCY;
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/hl7/" + iface))
                .header("Authorization", "Bearer " + Tokens.sample(port, client, "ingest:" + iface))
                .header("Content-Type", "application/hl7-v2; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(er7)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    HttpResponse<String> get(String path, String token) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(base() + path)).header("Authorization", "Bearer " + token)
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
