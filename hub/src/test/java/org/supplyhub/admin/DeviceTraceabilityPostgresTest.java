package org.supplyhub.admin;

import org.supplyhub.support.JournalColumns;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.config.ConfigFiles;
import org.supplyhub.journal.DeviceUse;
import org.supplyhub.journal.Journal;
import org.supplyhub.journal.MessageStatus;
import org.supplyhub.journal.ReceivedMessage;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.safety.ImplantHistory;
import org.supplyhub.safety.Recall;
import org.supplyhub.safety.RecallIndex;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 15, recall list and traceability, against a running hub on PostgreSQL: the recall list is
 * reloaded live from {@code mappings/recalls.csv}; accepted messages fill the device index in their
 * journal transaction (rejected and unmapped ones do not); a reprocessed revision replaces its
 * predecessor's rows; {@code GET /api/devices} answers who received a lot or a serial, with scopes and audit.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class DeviceTraceabilityPostgresTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final Path MAPPINGS = copyOfMappings();
    static final String KNEE = "00889024123458";
    static final String HEADER = "di,lots,serial_from,serial_to,recall_number,class,date,text\n";
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    JournalKeys keys;
    @Autowired
    RecallIndex recalls;
    @Autowired
    ImplantHistory history;
    @Autowired
    Journal journal;
    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("hub.routes-dir", INTERFACES.routesDir::toString);
        registry.add("hub.mappings-dir", MAPPINGS::toString);
        registry.add("hub.config.watch", () -> "false"); // reloads come from the API here, when the test says
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
    }

    @Test
    void aRecallListEditTakesEffectOnReloadAndABrokenListIsRefusedWithItsLine() throws Exception {
        Path file = MAPPINGS.resolve("recalls.csv");
        String shipped = Files.readString(file);
        try {
            assertThat(recalls.find(KNEE, "LOTR1", null)).isEmpty();
            Files.writeString(file, HEADER + KNEE + ",LOTR1,,,Z-1-2026,II,2026-10-02,Seal may be breached\n");
            assertThat(reload().statusCode()).isEqualTo(200);
            assertThat(recalls.find(KNEE, "lotr1", "SN1")).map(Recall::number).contains("Z-1-2026");
            JsonNode config = JSON.readTree(get("/api/config", reader()).body());
            assertThat(config.path("recalls").path("fileRows").asInt()).isOne();
            assertThat(config.path("recalls").path("fetchedFrom").isNull()).isTrue(); // no URL configured

            // a malformed edit: refused with every problem's line, the running list stays
            Files.writeString(file, HEADER + KNEE + ",LOTR2,,,Z-2-2026,II,2026-10-02,x\n"
                    + KNEE + ",,SN9,SN10X,Z-3-2026,I,2026-10-03,x\n" + KNEE + ",,,,Z-4-2026,IV,2026-10-03,x\n");
            HttpResponse<String> refused = reload();
            assertThat(refused.statusCode()).isEqualTo(422);
            assertThat(JSON.readTree(refused.body()).path("problems").toString())
                    .contains("mappings/recalls.csv: line 3: serial range SN9–SN10X")
                    .contains("mappings/recalls.csv: line 4: class must be I, II or III (got 'IV')");
            assertThat(recalls.find(KNEE, "LOTR1", null)).isPresent();
            assertThat(recalls.find(KNEE, "LOTR2", null)).isEmpty();
        } finally {
            Files.writeString(file, shipped);
            assertThat(reload().statusCode()).isEqualTo(200);
        }
        assertThat(recalls.find(KNEE, "LOTR1", null)).isEmpty();
    }

    @Test
    void acceptedMessagesAreIndexedAndRejectedOrUnmappedOnesAreNot() throws Exception {
        String accepted = withDevice(fresh(), "LOTA1", "SNA1");
        assertThat(post(accepted)).contains("MSA|AA");
        long id = messageId(Samples.controlId(accepted));
        List<java.util.Map<String, Object>> rows = jdbc.queryForList(
                "select di, lot, serial, line_no, device_no, kind, patient_value, interface_id, item_id, expiry"
                        + " from device_use where message_id = ?", id);
        assertThat(rows).hasSize(1); // the sample's third line carries the one implant
        JournalColumns columns = new JournalColumns(jdbc, keys);
        java.util.Map<String, Object> row = new java.util.HashMap<>(rows.get(0));
        row.put("lot", columns.open(Column.DEVICE_LOT, row.get("lot")));
        row.put("serial", columns.open(Column.DEVICE_SERIAL, row.get("serial")));
        row.put("patient_value", columns.open(Column.DEVICE_PATIENT, row.get("patient_value")));
        assertThat(row).containsEntry("di", KNEE).containsEntry("lot", "LOTA1").containsEntry("serial", "SNA1")
                .containsEntry("line_no", 3).containsEntry("device_no", 1).containsEntry("kind", "CHARGE")
                .containsEntry("patient_value", "MRN448812").containsEntry("interface_id", "mercy-or")
                .containsEntry("item_id", "INV-300412");

        String unmapped = withDevice(fresh(), "LOTA2", "SNA2").replace("(01)00889024123458", "(01)00889024123459");
        assertThat(post(unmapped)).contains("MSA|AE");
        String rejected = "MSH|^~\\&|ORMGR|MERCY_OR|SUPPLYHUB|HUB|20261114093512||ADT^A01|R1|P|2.5.1\rZIM|1|"
                + "(01)00889024123458(10)LOTA3\r";
        assertThat(post(rejected)).contains("MSA|AR");
        assertThat(columns.texts(Column.DEVICE_LOT, "select lot from device_use")).doesNotContain("LOTA2", "LOTA3");
    }

    @Test
    void aReprocessedRevisionReplacesItsPredecessorsDevices() {
        String controlId = "REV-" + UUID.randomUUID().toString().substring(0, 8);
        long first = journal.accept(entry(controlId, "LOTREV", "SNREV1"));
        assertThat(history.implantsOf(KNEE, "SNREV1")).extracting(ImplantHistory.PriorImplant::messageId).containsExactly(first);
        long revision = journal.revise(first, MessageStatus.ACCEPTED, entry(controlId, "LOTREV", "SNREV2"));
        assertThat(history.implantsOf(KNEE, "SNREV1")).isEmpty();
        assertThat(history.implantsOf(KNEE, "SNREV2")).extracting(ImplantHistory.PriorImplant::messageId)
                .containsExactly(revision);
        assertThat(new JournalColumns(jdbc, keys).texts(Column.DEVICE_LOT, "select lot from device_use"))
                .filteredOn("LOTREV"::equals).hasSize(1);
    }

    @Test
    void implantHistoryListsEarlierChargedUsesOfASerialOldestFirst() {
        // built through the journal, not the HL7 endpoint: the implant checks (suspect: reject) refuse a
        // serial charged to a second patient, and this test is about the history's order, not the checks
        String serial = "SNH" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        OffsetDateTime day1 = OffsetDateTime.parse("2026-11-14T09:20:00-06:00");
        long two = journal.accept(entry(newControlId("H"), "LOTH", serial, "MRN777001", SupplyUsage.Kind.CHARGE, day1.plusDays(1)));
        long one = journal.accept(entry(newControlId("H"), "LOTH", serial, "MRN448812", SupplyUsage.Kind.CHARGE, day1));
        // a credit for a patient never charged the device reverses nothing and is no implant
        journal.accept(entry(newControlId("H"), "LOTH", serial, "MRN555003", SupplyUsage.Kind.CREDIT, day1.plusDays(2)));
        List<ImplantHistory.PriorImplant> prior = history.implantsOf("0889024123458", serial.toLowerCase());
        assertThat(prior).extracting(ImplantHistory.PriorImplant::patientValue).containsExactly("MRN448812", "MRN777001");
        assertThat(prior).extracting(ImplantHistory.PriorImplant::messageId).containsExactly(one, two);
        assertThat(prior.get(0).interfaceId()).isEqualTo("mercy-or");
        assertThat(prior.get(0).serviceDate().toInstant()).isEqualTo(day1.toInstant());
        // the credit is in the index (the recall team sees it) but is not a second implant
        assertThat(new JournalColumns(jdbc, keys).texts(Column.DEVICE_SERIAL, "select serial from device_use where kind = 'CREDIT'"))
                .filteredOn(serial::equals).hasSize(1);
    }

    @Test
    void aChargeReversedByACreditDoesNotMakeTheNextPatientsChargeASecondUse() throws Exception {
        String serial = "SNC" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        String chargeA = withDevice(fresh(), "LOTC", serial);
        String creditA = withDevice(fresh(), "LOTC", serial).replace("|CG|278009041", "|CD|278009041");
        String chargeB = Samples.withField(withDevice(fresh(), "LOTC", serial), "PID", 3, "MRN777002^^^MERCY^MR")
                .replace("20261114092000", "20261115092000"); // opened, returned, implanted in B the next day
        assertThat(post(chargeA)).contains("MSA|AA");
        assertThat(post(creditA)).contains("MSA|AA");
        assertThat(history.implantsOf(KNEE, serial)).isEmpty();
        String answer = post(chargeB);
        assertThat(answer).as(answer).contains("MSA|AA");
        long b = messageId(Samples.controlId(chargeB));
        assertThat(jdbc.queryForObject("select count(*) from implant_flag where message_id = ?", Integer.class, b)).isZero();
        assertThat(history.implantsOf(KNEE, serial)).extracting(ImplantHistory.PriorImplant::patientValue)
                .containsExactly("MRN777002");
    }

    @Test
    void theTraceabilityQueryAnswersWhoReceivedALotWithScopesAndAudit() throws Exception {
        String lot = "LOTQ" + UUID.randomUUID().toString().substring(0, 6).toUpperCase();
        String a = withDevice(fresh(), lot, "SNQ1");
        String b = Samples.withField(withDevice(fresh(), lot, "SNQ2"), "PID", 3, "MRN550002^^^MERCY^MR");
        assertThat(post(a)).contains("MSA|AA");
        assertThat(post(b)).contains("MSA|AA");
        String query = "/api/devices?di=" + KNEE + "&lot=" + lot;

        assertThat(get(query, null).statusCode()).isEqualTo(401);
        assertThat(get(query, Tokens.sample(port, Tokens.MERCY, "ingest:mercy-or")).statusCode()).isEqualTo(403);

        HttpResponse<String> found = get(query, reader());
        assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
        JsonNode body = JSON.readTree(found.body());
        assertThat(body.path("count").asInt()).isEqualTo(2);
        assertThat(body.path("next").isNull()).isTrue();
        JsonNode first = body.path("uses").get(0);
        assertThat(first.path("patient").path("value").asText()).isEqualTo("MRN448812");
        assertThat(first.path("messageId").asLong()).isEqualTo(messageId(Samples.controlId(a)));
        assertThat(first.path("interfaceId").asText()).isEqualTo("mercy-or");
        assertThat(first.path("device").path("serial").asText()).isEqualTo("SNQ1");
        assertThat(first.path("device").path("expiry").asText()).isEqualTo("2030-01-01");
        assertThat(first.path("device").path("issuer").asText()).isEqualTo("http://hl7.org/fhir/NamingSystem/gs1-di");
        assertThat(first.path("serviceDate").asText()).isNotEmpty();
        assertThat(body.path("uses").get(1).path("patient").path("value").asText()).isEqualTo("MRN550002");

        // a page of one, then the next page by the link given
        JsonNode page = JSON.readTree(get(query + "&limit=1", reader()).body());
        assertThat(page.path("count").asInt()).isOne();
        JsonNode next = JSON.readTree(get(page.path("next").asText(), reader()).body());
        assertThat(next.path("uses").get(0).path("device").path("serial").asText()).isEqualTo("SNQ2");

        // a UDI carrier: its DI, lot and serial
        JsonNode byUdi = JSON.readTree(get("/api/devices?udi=" + URLEncoder.encode("(01)" + KNEE + "(10)" + lot
                + "(21)SNQ2", StandardCharsets.UTF_8), reader()).body());
        assertThat(byUdi.path("query").path("serial").asText()).isEqualTo("SNQ2");
        assertThat(byUdi.path("uses")).hasSize(1);
        assertThat(byUdi.path("uses").get(0).path("patient").path("value").asText()).isEqualTo("MRN550002");

        // bad input: 400 problem JSON
        for (String bad : List.of("/api/devices", "/api/devices?lot=" + lot, "/api/devices?udi=%2BNOPE",
                "/api/devices?udi=x&di=" + KNEE, "/api/devices?di=" + KNEE + "&limit=0")) {
            HttpResponse<String> r = get(bad, reader());
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        }

        List<String> audited = jdbc.queryForList("select target || ' ' || outcome || ' ' || coalesce(detail, '')"
                + " from audit_event where action = 'DEVICE_SEARCH' and actor = 'client:hub-admin' order by id", String.class);
        // the lot is audited as its keyed hash (issue 14: no PHI in clear in the audit trail)
        assertThat(audited).anyMatch(s -> s.startsWith("di " + KNEE + " lot#") && s.contains(" OK 2 uses"))
                .noneMatch(s -> s.contains(lot));
        assertThat(audited).anyMatch(s -> s.startsWith("udi#") && s.contains(" 400 ")).noneMatch(s -> s.contains("NOPE"));
    }

    // --- helpers

    String reader() {
        return Tokens.sample(port, Tokens.ADMIN, "messages:read");
    }

    HttpResponse<String> reload() throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/config/reload"))
                .header("Authorization", "Bearer " + Tokens.sample(port, Tokens.ADMIN, "config:write"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> get(String path, String token) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    String post(String er7) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hl7/mercy-or"))
                .header("Authorization", "Bearer " + Tokens.sample(port, Tokens.MERCY, "ingest:mercy-or"))
                .header("Content-Type", "application/hl7-v2; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(er7)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    long messageId(String controlId) {
        return jdbc.queryForObject("select id from message where control_id = ? and status = 'ACCEPTED'", Long.class, controlId);
    }

    static String fresh() {
        return Samples.withControlId(Samples.read(Samples.MERCY), "D" + UUID.randomUUID().toString().substring(0, 18));
    }

    /** The sample with its implant's UDI, lot and serial replaced. */
    static String withDevice(String message, String lot, String serial) {
        return message.replace("(10)LOT7781A(21)SN00042519|LOT7781A|SN00042519|",
                "(10)" + lot + "(21)" + serial + "|" + lot + "|" + serial + "|");
    }

    static Journal.Entry entry(String controlId, String lot, String serial) {
        return entry(controlId, lot, serial, "MRN-REV", SupplyUsage.Kind.CHARGE, OffsetDateTime.of(2026, 11, 1, 8, 0, 0, 0, ZoneOffset.UTC));
    }

    static String newControlId(String prefix) {
        return prefix + UUID.randomUUID().toString().substring(0, 18);
    }

    static Journal.Entry entry(String controlId, String lot, String serial, String patient, SupplyUsage.Kind kind,
                               OffsetDateTime usedAt) {
        ReceivedMessage m = ReceivedMessage.received("mercy-or", Instant.now(), "test", "UTF-8",
                        "MSH|^~\\&|T|T|H|H|1||DFT^P03|x|P|2.5.1".getBytes(StandardCharsets.UTF_8))
                .header("T^T", controlId, "DFT^P03", "2.5.1").contentHash("h")
                .answered(MessageStatus.ACCEPTED, "AA", "MSA|AA", null);
        DeviceUse use = new DeviceUse(1, 1, kind, KNEE, lot, serial, null, LocalDate.of(2030, 1, 1),
                null, "urn:mrn", patient, null, usedAt);
        return new Journal.Entry(m, "{}", 1, List.of(), null, List.of(use));
    }

    static Path copyOfMappings() {
        try {
            Path shipped = TestInterfaces.projectRoot().resolve("mappings");
            Path copy = Files.createTempDirectory("hub-mappings");
            try (Stream<Path> files = Files.walk(shipped)) {
                for (Path f : files.filter(Files::isRegularFile).filter(x -> ConfigFiles.isConfiguration(shipped, x)).toList()) {
                    Path target = copy.resolve(shipped.relativize(f).toString());
                    Files.createDirectories(target.getParent());
                    Files.copy(f, target);
                }
            }
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
