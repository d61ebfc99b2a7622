package org.supplyhub.safety;

import org.supplyhub.support.JournalColumns;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import org.hl7.fhir.r4.model.DetectedIssue;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.support.FhirTestServer;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.supplyhub.safety.SafetyFixtures.GTIN;
import static org.supplyhub.safety.SafetyFixtures.mercy;
import static org.supplyhub.safety.SafetyFixtures.udi;

/**
 * The whole hub on PostgreSQL with a real MLLP billing listener and a real FHIR server: an expired
 * implant on an interface whose profile flags it and holds its charge is AA, its DetectedIssue reaches
 * the FHIR server, billing gets the message's other charges at once and the implant's charge only
 * after an operator's release through the admin API, exactly once. A suspect device (the default
 * reject) is an AE journaled as ERROR.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ImplantSafetyAppTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final int BILLING_PORT = TestInterfaces.freePort();
    /** What billing received, in order: "MSH-10 FT1-2:FT1-6 …". */
    static final List<String> billingReceived = new CopyOnWriteArrayList<>();
    static FhirTestServer fhir;
    static HapiContext hapi;
    static HL7Service billing;

    @LocalServerPort
    int httpPort;

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    JournalKeys keys;

    @Autowired
    IntakeService intake;

    @Autowired
    RunningConfig catalog;

    @Autowired
    MeterRegistry meters;

    @Autowired
    ObjectMapper json;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        fhir = new FhirTestServer();
        hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
        billing = hapi.newServer(BILLING_PORT, false);
        billing.registerApplication("*", "*", recording());
        billing.startAndWait();
        // a copy of the shipped mappings (TestInterfaces shares the project's own): a profile that holds
        // expired implants' charges, and a recall on the hospital's list
        Path mappings = SafetyFixtures.mappingsWith("");
        Path recalls = mappings.resolve("recalls.csv");
        Files.writeString(recalls, Files.readString(recalls)
                + GTIN + ",LOTRC01;LOTRC02,,,Z-0412-2026,I,2026-10-02,Femoral component: cement mantle failure\n");
        Files.writeString(mappings.resolve("mercy-safety.yaml"), Files.readString(mappings.resolve("mercy-or.yaml"))
                + "\nsafety:\n  expired: { action: flag, holdCharge: true }\n");
        Files.writeString(INTERFACES.routesDir.resolve("safety.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-http-inbound
                    parameters:
                      - { name: interfaceId, value: safety-or }
                      - { name: mapping, value: mercy-safety.yaml }
                      - { name: destinations, value: "safety-billing, safety-fhir" }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: safety-billing }
                      - { name: connector, value: mllp }
                      - { name: output, value: charges }
                      - { name: url, value: "mllp://127.0.0.1:%d" }
                      - { name: timeout, value: 5s }
                      - { name: initialBackoff, value: 50ms }
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - { name: destination, value: safety-fhir }
                      - { name: connector, value: fhir }
                      - { name: output, value: fhir }
                      - { name: url, value: "%s" }
                      - { name: initialBackoff, value: 50ms }
                """.formatted(BILLING_PORT, fhir.baseUrl()));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> k.equals("hub.mappings-dir") ? mappings.toString() : v));
    }

    static ReceivingApplication<Message> recording() {
        return new ReceivingApplication<>() {
            @Override
            public Message processMessage(Message message, Map<String, Object> metadata) {
                try {
                    Terser terser = new Terser(message);
                    StringBuilder lines = new StringBuilder(terser.get("/MSH-10"));
                    for (int i = 0; terser.get("/FINANCIAL(" + i + ")/FT1-2") != null; i++) {
                        lines.append(' ').append(terser.get("/FINANCIAL(" + i + ")/FT1-2")).append(':')
                                .append(terser.get("/FINANCIAL(" + i + ")/FT1-6"));
                    }
                    billingReceived.add(lines.toString());
                    return message.generateACK();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public boolean canProcess(Message message) {
                return true;
            }
        };
    }

    @AfterAll
    static void stop() throws Exception {
        billing.stopAndWait();
        hapi.close();
        fhir.close();
    }

    @Test
    @Order(1)
    void anExpiredImplantIsAcceptedFlaggedSentAsDetectedIssueAndItsChargeWaitsForTheRelease() throws Exception {
        String er7 = mercy("SAFE-1", udi(GTIN, "261000", "LOT7781A", "SN00042519"), "", "", "");
        assertThat(receive(er7)).isEqualTo("AA");
        long id = jdbc.queryForObject("select id from message where control_id = 'SAFE-1'", Long.class);
        assertThat(jdbc.queryForObject("select status from message where id = ?", String.class, id)).isEqualTo("ACCEPTED");

        // the flag: stored open, audited with the ingest, counted
        Map<String, Object> flag = jdbc.queryForMap("select * from implant_flag where message_id = ?", id);
        assertThat(flag).containsEntry("check_name", "expired").containsEntry("line_no", 3)
                .containsEntry("status", "OPEN").containsEntry("hold_charge", true)
                .containsEntry("device_identifier", GTIN);
        assertThat(new JournalColumns(jdbc, keys).open(Column.FLAG_SERIAL, flag.get("serial"))).isEqualTo("SN00042519");
        long flagId = ((Number) flag.get("id")).longValue();
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'IMPLANT_FLAG'"
                + " and target = ?", Integer.class, "message " + id + " line 3")).isEqualTo(1);
        assertThat(meters.counter("hub.implant.flags", "check", "expired", "interface", "safety-or").count()).isEqualTo(1.0);

        // billing gets the other chargeable line (the sponge is not chargeable) and not the implant
        await(() -> "DELIVERED".equals(status(id, "safety-billing", null)) && "DELIVERED".equals(status(id, "safety-fhir", null)));
        long billingRow = jdbc.queryForObject("select id from outbox where message_id = ? and destination = 'safety-billing'",
                Long.class, id);
        assertThat(billingReceived).containsExactly("SH" + billingRow + " TX-88120-1:CG");

        // the DetectedIssue went to the FHIR server with the rest, and is valid R4
        List<Resource> issues = fhir.stored.values().stream().filter(DetectedIssue.class::isInstance).toList();
        assertThat(issues).hasSize(1);
        DetectedIssue issue = (DetectedIssue) issues.get(0);
        R4Validator.assertValid(issue);
        assertThat(issue.getCode().getCodingFirstRep().getCode()).isEqualTo("expired");
        assertThat(issue.getDetail()).contains("expired on 2026-10-31");
        assertThat(issue.getPatient().getIdentifier().getValue()).isEqualTo("MRN448812");
        assertThat(issue.getImplicatedFirstRep().getType()).isEqualTo("Device");

        // "needs attention": the open flag in the admin API, and in the message view
        JsonNode open = json.readTree(get("/api/flags?status=open").body());
        assertThat(open).hasSize(1);
        assertThat(open.get(0).get("id").asLong()).isEqualTo(flagId);
        assertThat(open.get(0).get("reason").asText()).isEqualTo("expired");
        JsonNode view = json.readTree(get("/api/messages/" + id).body());
        assertThat(view.get("flags").get(0).get("status").asText()).isEqualTo("OPEN");

        // a resend is answered from the journal and raises nothing new
        assertThat(receive(er7)).isEqualTo("AA");
        assertThat(jdbc.queryForObject("select count(*) from implant_flag", Integer.class)).isEqualTo(1);

        Thread.sleep(500); // the held charge stays held while nobody releases it
        assertThat(billingReceived).hasSize(1);

        // a read-only token cannot release
        assertThat(post("/api/flags/" + flagId + "/release", "messages:read").statusCode()).isEqualTo(403);
        HttpResponse<String> released = post("/api/flags/" + flagId + "/release", "messages:replay");
        assertThat(released.statusCode()).isEqualTo(200);
        assertThat(json.readTree(released.body()).get("chargeQueuedFor").get(0).asText()).isEqualTo("safety-billing");
        assertThat(post("/api/flags/" + flagId + "/release", "messages:replay").statusCode()).isEqualTo(409);

        await(() -> "DELIVERED".equals(status(id, "safety-billing", 3)));
        long releaseRow = jdbc.queryForObject("select id from outbox where message_id = ? and release_line = 3",
                Long.class, id);
        Thread.sleep(500); // nothing more comes
        assertThat(billingReceived).containsExactly("SH" + billingRow + " TX-88120-1:CG", "SH" + releaseRow + " TX-88120-3:CG");
        assertThat(jdbc.queryForMap("select status, released_by from implant_flag where id = ?", flagId))
                .containsEntry("status", "RELEASED").containsEntry("released_by", "client:" + Tokens.ADMIN);
        assertThat(jdbc.queryForList("select outcome from audit_event where action = 'FLAG_RELEASE' and actor = ?"
                + " order by id", String.class, "client:" + Tokens.ADMIN)).containsExactly("RELEASED", "NOT_OPEN");
        assertThat(json.readTree(get("/api/flags?status=open").body())).isEmpty();
    }

    @Test
    @Order(2)
    void aSuspectDeviceIsAnAeJournaledAsErrorByDefault() throws Exception {
        String er7 = mercy("SAFE-2", udi("00889024999992", "300101", "LOT7781A", "SN1"), "", "", "");
        assertThat(receive(er7)).isEqualTo("AE");
        assertThat(jdbc.queryForObject("select status from message where control_id = 'SAFE-2'", String.class))
                .isEqualTo("ERROR");
        assertThat(new JournalColumns(jdbc, keys).text(Column.MESSAGE_ERROR, "select error from message where control_id = 'SAFE-2'"))
                .contains("ZIM-2 (line 3)", "does not match the item master GTIN");
    }

    @Test
    @Order(3)
    void aDeviceOnTheHospitalsRecallListIsFlaggedAndItsChargeGoesOutByDefault() throws Exception {
        String er7 = mercy("SAFE-3", udi(GTIN, "300101", "LOTRC02", "SN00050001"), "", "", "");
        assertThat(receive(er7)).isEqualTo("AA");
        long id = jdbc.queryForObject("select id from message where control_id = 'SAFE-3'", Long.class);
        assertThat(jdbc.queryForMap("select check_name, recall_number, hold_charge, status from implant_flag"
                + " where message_id = ?", id)).containsEntry("check_name", "recalled")
                .containsEntry("recall_number", "Z-0412-2026").containsEntry("hold_charge", false);
        await(() -> "DELIVERED".equals(status(id, "safety-billing", null)));
        long row = jdbc.queryForObject("select id from outbox where message_id = ? and destination = 'safety-billing'",
                Long.class, id);
        assertThat(billingReceived).contains("SH" + row + " TX-88120-1:CG TX-88120-3:CG");
        await(() -> fhir.stored.values().stream().filter(DetectedIssue.class::isInstance)
                .anyMatch(r -> ((DetectedIssue) r).getDetail().contains("Z-0412-2026")));
    }

    @Test
    @Order(4)
    void theSameSerialInASecondPatientIsRefusedByDefault() throws Exception {
        String first = SafetyFixtures.withPatient(mercy("SAFE-4", udi(GTIN, "300101", "LOT7781A", "SNDUP0001"), "", "", ""),
                "MRN100001");
        assertThat(receive(first)).isEqualTo("AA");
        String second = SafetyFixtures.withPatient(mercy("SAFE-5", udi(GTIN, "300101", "LOT7781A", "SNDUP0001"), "", "", ""),
                "MRN100002");
        second = second.replace("TX-88120-", "TX-99120-"); // another procedure's transactions
        assertThat(receive(second)).isEqualTo("AE");
        long firstId = jdbc.queryForObject("select id from message where control_id = 'SAFE-4'", Long.class);
        assertThat(new JournalColumns(jdbc, keys).text(Column.MESSAGE_ERROR, "select error from message where control_id = 'SAFE-5'"))
                .contains("ZIM-4 (line 3)", "was implanted earlier in another patient")
                .doesNotContain("MRN100001", "message " + firstId, "interface");
    }

    @Test
    @Order(5)
    void aReleaseWhoseChargeHasNoBillingDestinationLeftIsRefusedAndTheFlagStaysOpen() throws Exception {
        String er7 = mercy("SAFE-6", udi(GTIN, "261000", "LOT7781A", "SN00060001"), "", "", "");
        assertThat(receive(er7)).isEqualTo("AA");
        long id = jdbc.queryForObject("select id from message where control_id = 'SAFE-6'", Long.class);
        long flagId = jdbc.queryForObject("select id from implant_flag where message_id = ?", Long.class, id);
        await(() -> "DELIVERED".equals(status(id, "safety-billing", null)));
        // the billing destination the message was queued for has since left the configuration
        jdbc.update("update outbox set destination = 'retired-billing' where message_id = ? and destination = 'safety-billing'", id);

        HttpResponse<String> refused = post("/api/flags/" + flagId + "/release", "messages:replay");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
        assertThat(refused.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        assertThat(json.readTree(refused.body()).path("detail").asText()).contains("retired-billing (not configured)");
        assertThat(jdbc.queryForObject("select status from implant_flag where id = ?", String.class, flagId)).isEqualTo("OPEN");
        assertThat(jdbc.queryForObject("select count(*) from outbox where message_id = ? and release_line is not null",
                Integer.class, id)).isZero();
        assertThat(jdbc.queryForList("select outcome from audit_event where action = 'FLAG_RELEASE' and target like ?",
                String.class, "flag " + flagId + " %")).containsExactly("NO_BILLING");
    }

    @Test
    @Order(6)
    void messagesAreFoundByPatientAndAccountThroughKeyedHashesAndTheSearchIsAuditedWithoutTheMrn() throws Exception {
        long id = jdbc.queryForObject("select id from message where control_id = 'SAFE-1'", Long.class);
        String patientKey = jdbc.queryForObject("select patient_key from message where id = ?", String.class, id);
        assertThat(patientKey).hasSize(64).doesNotContain("448812");

        JsonNode byPatient = json.readTree(get("/api/messages?patient=MRN448812&status=ACCEPTED").body());
        assertThat(byPatient.findValuesAsText("id")).contains(String.valueOf(id));
        assertThat(byPatient.findValuesAsText("controlId")).doesNotContain("SAFE-2"); // an ERROR, not ACCEPTED
        assertThat(json.readTree(get("/api/messages?patient=MRN000000").body())).isEmpty();
        assertThat(json.readTree(get("/api/messages?patient=MRN448812&ack=AA").body()).findValuesAsText("ackCode"))
                .isNotEmpty().containsOnly("AA");
        // keyset paging: the page before the newest one starts below it
        JsonNode newest = json.readTree(get("/api/messages?limit=1").body());
        long top = newest.get(0).get("id").asLong();
        JsonNode next = json.readTree(get("/api/messages?limit=1&before=" + top).body());
        assertThat(next.get(0).get("id").asLong()).isLessThan(top);

        Map<String, Object> search = jdbc.queryForMap("select target, patient_key, detail from audit_event"
                + " where action = 'MESSAGE_SEARCH' and patient_key is not null order by id fetch first 1 rows only");
        assertThat(search).containsEntry("target", "patient").containsEntry("patient_key", patientKey);
        assertThat(jdbc.queryForObject("select source from audit_event where action = 'MESSAGE_SEARCH'"
                + " order by id desc fetch first 1 rows only", String.class)).isEqualTo("127.0.0.1");
        assertThat(jdbc.queryForObject("select count(*) from audit_event where target like '%448812%'"
                + " or detail like '%448812%'", Integer.class)).isZero();
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'INGEST' and message_id = ?"
                + " and patient_key = ?", Integer.class, id, patientKey)).isEqualTo(1);
    }

    String receive(String er7) {
        return intake.receive(catalog.get("safety-or"), er7.getBytes(StandardCharsets.UTF_8), null, "test").ackCode();
    }

    String status(long messageId, String destination, Integer releaseLine) {
        List<String> found = jdbc.queryForList("select status from outbox where message_id = ? and destination = ?"
                + (releaseLine == null ? " and release_line is null" : " and release_line = " + releaseLine),
                String.class, messageId, destination);
        return found.isEmpty() ? null : found.get(0);
    }

    HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .header("Authorization", "Bearer " + Tokens.sample(httpPort, Tokens.ADMIN, "messages:read")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, String scope) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .header("Authorization", "Bearer " + Tokens.sample(httpPort, Tokens.ADMIN, scope))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30_000;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                throw new AssertionError("condition not met in 30 s");
            }
            Thread.sleep(50);
        }
    }
}
