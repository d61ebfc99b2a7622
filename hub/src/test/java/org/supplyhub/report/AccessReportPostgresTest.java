package org.supplyhub.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.security.crypto.bcrypt.BCryptPasswordEncoder;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.StreamSupport;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The access report against a running hub on PostgreSQL: a viewer-scoped client reads a message and
 * searches the patient's MRN, then by account and control id; the privacy officer's report for that MRN lists
 * them all (a search that set no patient by one LISTED row per message it listed), with the client's
 * identity and address, and not what was done to another patient; the report itself is audited (the
 * next report lists it); the CSV parses back; scopes and bad requests are refused.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class AccessReportPostgresTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final HttpClient HTTP = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();
    static final String VIEWER = "ward-viewer";
    static final String OFFICER = "privacy-officer";
    static final String SECRET = "report-test-secret";
    static final String MRN_A = "MRN448812";
    static final String MRN_B = "MRN550002";
    static final String ACCOUNT = "ACCT90017733";

    @Autowired
    JdbcTemplate jdbc;
    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        registry.add("hub.config.watch", () -> "false");
        registry.add("hub.retention.schedule", () -> "-");
        BCryptPasswordEncoder bcrypt = new BCryptPasswordEncoder(4);
        String viewerHash = "{bcrypt}" + bcrypt.encode(SECRET + VIEWER);
        String officerHash = "{bcrypt}" + bcrypt.encode(SECRET + OFFICER);
        registry.add("hub.security.clients." + VIEWER + ".secret", () -> viewerHash);
        registry.add("hub.security.clients." + VIEWER + ".scopes", () -> "messages:read");
        registry.add("hub.security.clients." + OFFICER + ".secret", () -> officerHash);
        registry.add("hub.security.clients." + OFFICER + ".scopes", () -> "audit:read");
    }

    @Test
    void theReportForAnMrnListsTheViewersReadAndSearchWithItsIdentityAndNothingOfOtherPatients() throws Exception {
        long a = ingest(Samples.read(Samples.MERCY));
        long b = ingest(Samples.withField(Samples.read(Samples.MERCY), "PID", 3, MRN_B + "^^^MERCY^MR"));
        Instant start = Instant.now();
        String viewer = token(VIEWER, "messages:read");
        assertThat(get("/api/messages/" + a, viewer, null).statusCode()).isEqualTo(200);
        assertThat(get("/api/messages/" + a + "/raw", viewer, null).statusCode()).isEqualTo(200);
        HttpResponse<String> search = get("/api/messages?patient=" + MRN_A, viewer, null);
        assertThat(JSON.readTree(search.body()).findValuesAsText("id")).contains(Long.toString(a));
        // another patient's data, read and searched by the same client: not in A's report
        assertThat(get("/api/messages/" + b + "/raw", viewer, null).statusCode()).isEqualTo(200);
        assertThat(get("/api/messages?patient=" + MRN_B, viewer, null).statusCode()).isEqualTo(200);
        // searches that set no patient still list patients' messages: by account (A's and B's), by control id (A's)
        HttpResponse<String> byAccount = get("/api/messages?account=" + ACCOUNT, viewer, null);
        assertThat(JSON.readTree(byAccount.body()).findValuesAsText("id")).contains(Long.toString(a), Long.toString(b));
        String controlIdA = jdbc.queryForObject("select control_id from message where id = ?", String.class, a);
        assertThat(JSON.readTree(get("/api/messages?controlId=" + controlIdA, viewer, null).body()).findValuesAsText("id"))
                .containsExactly(Long.toString(a));

        String officer = token(OFFICER, "audit:read");
        // scopes: a viewer may not run it, nobody without a token
        assertThat(get("/api/reports/access?patient=" + MRN_A, viewer, null).statusCode()).isEqualTo(403);
        assertThat(get("/api/reports/access?patient=" + MRN_A, null, null).statusCode()).isEqualTo(401);

        HttpResponse<String> report = get("/api/reports/access?patient=" + MRN_A + "&since=" + start, officer, null);
        assertThat(report.statusCode()).as(report.body()).isEqualTo(200);
        assertThat(report.headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        JsonNode events = JSON.readTree(report.body()).path("events");
        List<String> lines = new ArrayList<>();
        events.forEach(e -> lines.add(e.path("actor").asText() + " " + e.path("action").asText() + " "
                + e.path("target").asText() + " " + e.path("detail").asText() + " " + e.path("source").asText()));
        assertThat(lines).containsExactly(
                "client:" + VIEWER + " MESSAGE_READ message " + a + " summary 127.0.0.1",
                "client:" + VIEWER + " MESSAGE_READ message " + a + " raw 127.0.0.1",
                "client:" + VIEWER + " MESSAGE_SEARCH patient 1 found 127.0.0.1",
                "client:" + VIEWER + " MESSAGE_SEARCH message " + a + " listed by a search by account 127.0.0.1",
                "client:" + VIEWER + " MESSAGE_SEARCH message " + a + " listed by a search by control id " + controlIdA
                        + " 127.0.0.1");
        for (JsonNode e : events) {
            assertThat(e.path("at").asText()).isNotEmpty();
            assertThat(e.path("messageId").isNull() || e.path("messageId").asLong() == a).as(e.toString()).isTrue();
        }
        // ingests are not accesses; without since, they still are not listed
        JsonNode all = JSON.readTree(get("/api/reports/access?patient=" + MRN_A, officer, null).body()).path("events");
        assertThat(StreamSupport.stream(all.spliterator(), false).map(e -> e.path("action").asText()))
                .doesNotContain("INGEST").contains("ACCESS_REPORT");

        // CSV (by Accept), parsed back: the two reports just run are in it, under the officer's name
        HttpResponse<String> csv = get("/api/reports/access?patient=" + MRN_A + "&since=" + start.toString().substring(0, 10),
                officer, "text/csv");
        assertThat(csv.statusCode()).isEqualTo(200);
        assertThat(csv.headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
        String disposition = csv.headers().firstValue("Content-Disposition").orElse("");
        assertThat(disposition).startsWith("attachment").contains("filename=\"access-report-").doesNotContain(MRN_A);
        List<Map<String, String>> rows = parse(csv.body());
        assertThat(rows.get(0).keySet()).containsExactlyElementsOf(AccessReportController.CSV_COLUMNS);
        assertThat(rows).filteredOn(r -> r.get("actor").equals("client:" + VIEWER)).hasSize(5)
                .allMatch(r -> r.get("source").equals("127.0.0.1"));
        List<Map<String, String>> reports = rows.stream().filter(r -> r.get("action").equals("ACCESS_REPORT")).toList();
        assertThat(reports).hasSize(2).allMatch(r -> r.get("actor").equals("client:" + OFFICER));
        assertThat(reports.get(0).get("detail")).startsWith("5 events, from "); // a comma inside a cell, quoted
        assertThat(csv.body()).contains("\"5 events, from ");
        // format=csv does the same; format wins over Accept
        assertThat(get("/api/reports/access?patient=" + MRN_A + "&format=csv", officer, "application/json").headers()
                .firstValue("Content-Type").orElse("")).startsWith("text/csv");

        // B's report has B's events only
        JsonNode other = JSON.readTree(get("/api/reports/access?patient=" + MRN_B + "&since=" + start, officer, null)
                .body()).path("events");
        assertThat(StreamSupport.stream(other.spliterator(), false).map(e -> e.path("target").asText()))
                .containsExactly("message " + b, "patient", "message " + b);

        // the audit trail holds no MRN, only keyed hashes
        assertThat(jdbc.queryForObject("select count(*) from audit_event where coalesce(target, '') || coalesce(detail, '')"
                + " || coalesce(patient_key, '') like '%MRN%'", Integer.class)).isZero();

        // bad requests: a clear problem, audited without a patient
        for (String bad : List.of("/api/reports/access", "/api/reports/access?patient=" + MRN_A + "&since=yesterday",
                "/api/reports/access?patient=" + MRN_A + "&since=2026-12-01&until=2026-11-01",
                "/api/reports/access?patient=" + MRN_A + "&format=xml")) {
            HttpResponse<String> r = get(bad, officer, null);
            assertThat(r.statusCode()).as(bad).isEqualTo(400);
            assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        }
    }

    static List<Map<String, String>> parse(String csv) throws Exception {
        try (MappingIterator<Map<String, String>> it = new CsvMapper().readerForMapOf(String.class)
                .with(CsvSchema.emptySchema().withHeader()).readValues(csv)) {
            return it.readAll();
        }
    }

    long ingest(String sample) throws Exception {
        String tag = UUID.randomUUID().toString().replace("-", "").substring(0, 10).toUpperCase();
        String er7 = Samples.withControlId(sample, "AR" + tag).replace("SN00042519", "SN" + tag);
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(base() + "/hl7/mercy-or"))
                .header("Authorization", "Bearer " + Tokens.sample(port, Tokens.MERCY, "ingest:mercy-or"))
                .header("Content-Type", "application/hl7-v2; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(er7)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.body()).contains("MSA|AA");
        return jdbc.queryForObject("select id from message where control_id = ?", Long.class, "AR" + tag);
    }

    String token(String client, String scope) {
        return Tokens.fetch(base(), client, SECRET + client, scope);
    }

    HttpResponse<String> get(String path, String token, String accept) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base() + path)).GET();
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        if (accept != null) {
            request.header("Accept", accept);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    String base() {
        return "http://127.0.0.1:" + port;
    }
}
