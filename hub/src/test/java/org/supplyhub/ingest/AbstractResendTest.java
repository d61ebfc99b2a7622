package org.supplyhub.ingest;

import org.supplyhub.support.JournalColumns;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
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
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.supplyhub.ingest.AbstractIntakeTest.ackCode;
import static org.supplyhub.ingest.AbstractIntakeTest.segment;

/**
 * Who a resend is (interface, sender, control id), what it must be (the same content), what an
 * ERROR's resend and a reprocess do — over HTTP and plain MLLP, on a real database (subclasses pick).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
abstract class AbstractResendTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    JournalKeys keys;
    @Autowired
    Journal journal;
    @Autowired
    MessageQueries queries;
    @Autowired
    MeterRegistry meters;
    @LocalServerPort
    int httpPort;

    @DynamicPropertySource
    static void interfaces(DynamicPropertyRegistry registry) {
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    static String id(String prefix) {
        return prefix + UUID.randomUUID().toString().substring(0, 12);
    }

    String mllp(String iface, String er7) throws Exception {
        try (Mllp mllp = new Mllp(INTERFACES.ports.get(iface))) {
            return mllp.send(er7, StandardCharsets.UTF_8);
        }
    }

    HttpResponse<String> post(String iface, String client, String er7) throws Exception {
        String token = Tokens.sample(httpPort, client, client.equals(Tokens.LAKESIDE) ? "ingest:lakeside-cath" : "ingest:mercy-or");
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/hl7/" + iface))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/hl7-v2; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(er7)).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> reprocess(long id, String scope) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + httpPort + "/api/messages/" + id + "/reprocess"))
                .header("Authorization", "Bearer " + Tokens.sample(httpPort, Tokens.ADMIN, scope))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    int count(String sql, Object... args) {
        Integer n = jdbc.queryForObject(sql, Integer.class, args);
        return n == null ? 0 : n;
    }

    /** The Mercy sample as if its OR manager's sending application and facility were another's. */
    static String mercyFrom(String application, String facility, String controlId) {
        return Samples.withControlId(Samples.read(Samples.MERCY), controlId)
                .replace("|ORMGR|MERCY_OR|", "|" + application + "|" + facility + "|");
    }

    @Test
    void anotherInterfacesClientCannotTakeAControlIdOverHttp() throws Exception {
        String next = id("OR-NEXT-");
        // Lakeside's client posts a Mercy-looking message to its own interface, with Mercy's next control id
        HttpResponse<String> forged = post("lakeside-cath", Tokens.LAKESIDE, mercyFrom("ORMGR", "MERCY_OR", next));
        assertThat(ackCode(forged.body())).isEqualTo("AR");
        assertThat(segment(forged.body(), "ERR")).contains("MSH^1^3").contains("ORMGR/MERCY_OR");
        assertThat(count("select count(*) from message where control_id = ? and interface_id = 'lakeside-cath'"
                + " and status = 'REJECTED'", next)).isEqualTo(1);
        assertThat(count("select count(*) from audit_event where action = 'SENDER_REFUSED' and target = ?",
                "control id " + next)).isEqualTo(1);

        // Mercy's real message with that id is still taken, and gets its own AA
        String real = Samples.withControlId(Samples.read(Samples.MERCY), next);
        HttpResponse<String> mercy = post("mercy-or", Tokens.MERCY, real);
        assertThat(ackCode(mercy.body())).isEqualTo("AA");
        assertThat(segment(mercy.body(), "MSA")).contains(next);
        assertThat(count("select count(*) from message where control_id = ? and interface_id = 'mercy-or'"
                + " and status = 'ACCEPTED'", next)).isEqualTo(1);
        assertThat(count("select count(*) from outbox o join message m on m.id = o.message_id where m.control_id = ?",
                next)).isEqualTo(3);

        // a facility Lakeside does not send from is named as MSH-4
        String wrongFacility = post("lakeside-cath", Tokens.LAKESIDE, mercyFrom("SURGINET", "MERCY_OR", id("LK-"))).body();
        assertThat(ackCode(wrongFacility)).isEqualTo("AR");
        assertThat(segment(wrongFacility, "ERR")).contains("MSH^1^4");
    }

    @Test
    void anotherInterfacesSenderIsRefusedOverPlainMllpAndGuessingNeverAnswersItsAck() throws Exception {
        String next = id("OR-MLLP-");
        String forged = mllp("lakeside-cath", mercyFrom("ORMGR", "MERCY_OR", next));
        assertThat(ackCode(forged)).isEqualTo("AR");
        String mercyAck = mllp("mercy-or", Samples.withControlId(Samples.read(Samples.MERCY), next));
        assertThat(ackCode(mercyAck)).isEqualTo("AA");
        assertThat(count("select count(*) from message where control_id = ? and status = 'ACCEPTED'", next)).isEqualTo(1);

        // Lakeside guessing Mercy's control id with a message of its own: its own message, never Mercy's ACK
        String guess = Samples.withControlId(Samples.read(Samples.LAKESIDE), next);
        String answer = mllp("lakeside-cath", guess);
        assertThat(answer).isNotEqualTo(mercyAck);
        assertThat(ackCode(answer)).isEqualTo("AA");
        assertThat(jdbc.queryForList("select interface_id from message where control_id = ? and status = 'ACCEPTED'"
                + " order by id", String.class, next)).containsExactly("mercy-or", "lakeside-cath");
        // and the same guess over HTTP with Lakeside's token is its own resend
        assertThat(post("lakeside-cath", Tokens.LAKESIDE, guess).body()).isEqualTo(answer);
    }

    @Test
    void aControlIdReusedWithOtherContentIsRefusedAndASendAgainIsStillAResend() throws Exception {
        // like Microsoft's public DFT samples: different messages, all with MSH-10 MSG00001
        String first = Samples.withControlId(Samples.read(Samples.MERCY), "MSG00001");
        String second = Samples.withControlId(Samples.read(Samples.MERCY_CREDIT), "MSG00001");
        String firstAck = mllp("mercy-or", first);
        assertThat(ackCode(firstAck)).isEqualTo("AA");
        double reusedBefore = reusedCount();
        int messages = count("select count(*) from message where status = 'ACCEPTED'");
        int outbox = count("select count(*) from outbox");

        String secondAck = mllp("mercy-or", second);
        assertThat(ackCode(secondAck)).isEqualTo("AR");
        assertThat(segment(secondAck, "ERR")).contains("MSH^1^10").contains("205")
                .contains("reused with different content");
        assertThat(reusedCount()).isEqualTo(reusedBefore + 1);
        assertThat(new JournalColumns(jdbc, keys).texts(Column.MESSAGE_ERROR,
                "select error from message where control_id = 'MSG00001' and status = 'REJECTED'"))
                .filteredOn(error -> error != null && error.contains("reused with different content")).hasSize(1);
        assertThat(count("select count(*) from audit_event where action = 'CONTROL_ID_REUSED'"
                + " and target = 'control id MSG00001'")).isEqualTo(1);

        // the first again, re-stamped (MSH-7), with CRLF and a trailing terminator: a resend, answered byte for byte
        String resent = first.replace("|20261114093512||DFT", "|20261114094001||DFT").replace("\r", "\r\n") + "\r\n";
        HttpResponse<String> overHttp = post("mercy-or", Tokens.MERCY, resent);
        assertThat(overHttp.body()).isEqualTo(firstAck);
        assertThat(mllp("mercy-or", first)).isEqualTo(firstAck);
        assertThat(count("select count(*) from message where status = 'ACCEPTED'")).isEqualTo(messages);
        assertThat(count("select count(*) from outbox")).isEqualTo(outbox);
    }

    double reusedCount() {
        Counter c = meters.find("hub.control.id.reused").tag("interface", "mercy-or").counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void aResendOfAnErrorIsProcessedAfreshAndLinkedToIt() throws Exception {
        String controlId = id("ERR-");
        String good = Samples.withControlId(Samples.read(Samples.MERCY), controlId);
        String bad = good.replace("270004512^SUTURE", "999999999^SUTURE");
        String ae = mllp("mercy-or", bad);
        assertThat(ackCode(ae)).isEqualTo("AE");
        long errorId = jdbc.queryForObject("select id from message where control_id = ?", Long.class, controlId);

        // the same message again: mapped again (still an error), a new attempt linked to the first
        assertThat(ackCode(mllp("mercy-or", bad))).isEqualTo("AE");
        long secondError = jdbc.queryForObject("select id from message where control_id = ? and previous_id = ?",
                Long.class, controlId, errorId);

        // corrected, same control id: taken
        String aa = mllp("mercy-or", good);
        assertThat(ackCode(aa)).isEqualTo("AA");
        Map<String, Object> accepted = jdbc.queryForMap("select id, previous_id, status from message where control_id = ?"
                + " and status = 'ACCEPTED'", controlId);
        assertThat(((Number) accepted.get("previous_id")).longValue()).isEqualTo(secondError);
        assertThat(count("select count(*) from message where control_id = ? and dedup_key is not null", controlId)).isEqualTo(1);
        assertThat(count("select count(*) from outbox where message_id = ?", accepted.get("id"))).isEqualTo(3);
        // now it is a resend, answered from the store
        assertThat(mllp("mercy-or", good)).isEqualTo(aa);
        assertThat(count("select count(*) from message where control_id = ?", controlId)).isEqualTo(3);
        assertThat(queries.find(errorId).orElseThrow().lineCount()).isNull(); // nothing was mapped
        assertThat(queries.find(((Number) accepted.get("id")).longValue()).orElseThrow().previousId()).isEqualTo(secondError);
    }

    @Test
    void reprocessMapsAStoredErrorWithTheCurrentProfileOnce() throws Exception {
        String controlId = id("RP-");
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId);
        // journaled as ERROR under an older mapping (e.g. before the item master knew an item)
        long errorId = journal.record(ReceivedMessage.received("mercy-or", Instant.now(), "test", "UTF-8",
                        er7.getBytes(StandardCharsets.UTF_8))
                .header("ORMGR^MERCY_OR", controlId, "DFT^P03", "2.5.1").contentHash(IntakeService.contentHash(er7))
                .answered(MessageStatus.ERROR, "AE", "MSH|^~\\&|HUB\rMSA|AE|" + controlId, "item unknown"));

        assertThat(reprocess(errorId, "messages:read").statusCode()).isEqualTo(403);
        HttpResponse<String> done = reprocess(errorId, "messages:replay");
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        long revision = jdbc.queryForObject("select id from message where previous_id = ?", Long.class, errorId);
        assertThat(done.body()).contains("\"revision\":" + revision);
        assertThat(jdbc.queryForObject("select status from message where id = ?", String.class, revision)).isEqualTo("ACCEPTED");
        assertThat(count("select count(*) from outbox where message_id = ?", revision)).isEqualTo(3);
        // its FHIR resources render from the revision's usage, each valid R4
        List<MessageQueries.Output> outputs = queries.outputs(revision);
        assertThat(outputs).hasSize(7);
        outputs.forEach(o -> R4Validator.assertValid(o.resource()));
        assertThat(count("select count(*) from audit_event where action = 'REPROCESS' and target = ?",
                "message " + errorId)).isEqualTo(1);
        // the sender's resend is now answered with the revision's AA
        String resend = mllp("mercy-or", er7);
        assertThat(resend).isEqualTo(new JournalColumns(jdbc, keys).text(Column.MESSAGE_ACK,
                "select ack from message where id = ?", revision));
        assertThat(ackCode(resend)).isEqualTo("AA");

        // the original cannot be reprocessed twice, and a delivered revision is never owed again
        assertThat(reprocess(errorId, "messages:replay").statusCode()).isEqualTo(409);
        Await.until(() -> count("select count(*) from outbox where message_id = ? and status = 'DELIVERED'", revision) == 3, 30);
        HttpResponse<String> again = reprocess(revision, "messages:replay");
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.headers().firstValue("Content-Type").orElseThrow()).contains("application/problem+json");
        assertThat(count("select count(*) from message where control_id = ?", controlId)).isEqualTo(2);
        assertThat(count("select count(*) from outbox o join message m on m.id = o.message_id where m.control_id = ?",
                controlId)).isEqualTo(3);
        assertThat(reprocess(Long.MAX_VALUE, "messages:replay").statusCode()).isEqualTo(404);
    }

    @Test
    void reprocessOfAnAcceptedMessageWhoseDeliveriesNeverWentOutSupersedesThem() throws Exception {
        String controlId = id("RPA-");
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId);
        // accepted, owed to a destination nothing drains: its rows stay PENDING and are never sent
        long original = journal.accept(new Journal.Entry(ReceivedMessage.received("mercy-or", Instant.now(), "test",
                        "UTF-8", er7.getBytes(StandardCharsets.UTF_8))
                .header("ORMGR^MERCY_OR", controlId, "DFT^P03", "2.5.1").contentHash(IntakeService.contentHash(er7))
                .answered(MessageStatus.ACCEPTED, "AA", "MSH|^~\\&|HUB\rMSA|AA|" + controlId, null), "{}", 3, List.of("parked-a", "parked-b"), "mercy-or|x"));

        HttpResponse<String> done = reprocess(original, "messages:replay");
        assertThat(done.statusCode()).as(done.body()).isEqualTo(200);
        assertThat(jdbc.queryForList("select status from outbox where message_id = ?", String.class, original))
                .containsOnly("SUPERSEDED").hasSize(2);
        assertThat(count("select count(*) from outbox o join message m on m.id = o.message_id where m.previous_id = ?"
                + " and o.status in ('PENDING', 'DELIVERED')", original)).isEqualTo(3);
    }

    @Test
    void reprocessIsRefusedWhenADeliveryWasSentOrALaterMessageOfTheAccountWaits() throws Exception {
        // sent once and dead (a timeout, say): the receiver may have applied it, and the revision
        // would come with new idempotency keys, so it could be charged twice
        long sent = parked(id("RPS-"), "mercy-or|sent");
        jdbc.update("update outbox set status = 'DEAD', attempts = 1 where message_id = ?", sent);
        HttpResponse<String> refused = reprocess(sent, "messages:replay");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
        assertThat(jdbc.queryForList("select status from outbox where message_id = ?", String.class, sent))
                .containsOnly("DEAD");
        assertThat(count("select count(*) from message where previous_id = ?", sent)).isZero();

        // never sent, but a later message of the same account waits behind it: the revision would go after it
        long first = parked(id("RPO-"), "mercy-or|order");
        long later = parked(id("RPO-"), "mercy-or|order");
        HttpResponse<String> outOfOrder = reprocess(first, "messages:replay");
        assertThat(outOfOrder.statusCode()).as(outOfOrder.body()).isEqualTo(409);
        assertThat(jdbc.queryForList("select status from outbox where message_id in (?, ?)", String.class, first, later))
                .containsOnly("PENDING");
    }

    /** An accepted message owed to destinations nothing drains, so its rows stay as the test sets them. */
    long parked(String controlId, String orderingKey) {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId);
        return journal.accept(new Journal.Entry(ReceivedMessage.received("mercy-or", Instant.now(), "test", "UTF-8",
                        er7.getBytes(StandardCharsets.UTF_8))
                .header("ORMGR^MERCY_OR", controlId, "DFT^P03", "2.5.1").contentHash(IntakeService.contentHash(er7))
                .answered(MessageStatus.ACCEPTED, "AA", "MSH|^~\\&|HUB\rMSA|AA|" + controlId, null),
                "{}", 3, List.of("parked-a"), orderingKey));
    }

    @Test
    void lineCountIsNullOnlyWhenTheColumnIsNull() throws Exception {
        String controlId = id("LC-");
        assertThat(ackCode(mllp("mercy-or", Samples.withControlId(Samples.read(Samples.MERCY), controlId)))).isEqualTo("AA");
        long id = jdbc.queryForObject("select id from message where control_id = ?", Long.class, controlId);
        assertThat(queries.find(id).orElseThrow().lineCount()).isEqualTo(3);
        jdbc.update("update message set line_count = null where id = ?", id);
        assertThat(queries.find(id).orElseThrow().lineCount()).isNull();
    }
}
