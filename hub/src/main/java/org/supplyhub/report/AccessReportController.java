package org.supplyhub.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;

import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET /api/reports/access?patient=MRN&since=&until=} (scope {@code audit:read}): every audited
 * access to one patient's data — who, when, what, from where — as JSON, or CSV with {@code format=csv}
 * or {@code Accept: text/csv}. The request is itself audited under the patient's key, so the next report
 * shows who ran reports on the patient. The MRN is never echoed into the audit, logs or the file name.
 */
@RestController
@RequestMapping("/api/reports")
public class AccessReportController {

    /** At most this many events per report; narrow {@code since}/{@code until} for more. */
    static final int MAX_EVENTS = 10_000;
    static final MediaType CSV = new MediaType("text", "csv", StandardCharsets.UTF_8);
    static final List<String> CSV_COLUMNS = List.of("at", "actor", "action", "target", "outcome", "source",
            "interface", "messageId", "detail", "eventId");
    private static final DateTimeFormatter FILE_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'")
            .withZone(ZoneOffset.UTC);

    private final AccessReport report;
    private final AuditLog audit;
    private final Clock clock;
    private final CsvMapper csv = new CsvMapper();

    public AccessReportController(AccessReport report, AuditLog audit, Clock clock) {
        this.report = report;
        this.audit = audit;
        this.clock = clock;
    }

    @GetMapping("/access")
    public ResponseEntity<?> access(@RequestParam(required = false) String patient,
                                    @RequestParam(required = false) String since,
                                    @RequestParam(required = false) String until,
                                    @RequestParam(required = false) String format,
                                    @RequestHeader(name = HttpHeaders.ACCEPT, required = false) String accept,
                                    Principal caller) throws JsonProcessingException {
        String actor = AuditLog.client(caller);
        Instant now = clock.instant();
        Instant from;
        Instant to;
        boolean asCsv;
        try {
            if (patient == null || patient.isBlank()) {
                throw new IllegalArgumentException("patient is required: the patient identifier (PID-3-1) as received");
            }
            from = since == null || since.isBlank() ? Instant.EPOCH : instant("since", since);
            to = until == null || until.isBlank() ? now : instant("until", until);
            if (!from.isBefore(to)) {
                throw new IllegalArgumentException("since must be before until");
            }
            asCsv = wantsCsv(format, accept);
        } catch (IllegalArgumentException e) {
            audit.record(AuditEvent.of(actor, "ACCESS_REPORT").target("access report").outcome("400")
                    .detail(e.getMessage()));
            ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, e.getMessage());
            problem.setTitle("Bad access report request");
            return ResponseEntity.badRequest().contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
        }
        String key = report.keyOf(patient);
        AccessReport.Result result = report.find(key, from, to, MAX_EVENTS);
        audit.record(AuditEvent.of(actor, "ACCESS_REPORT").patientKey(key).target("access report").outcome("OK")
                .detail(result.events().size() + " events, from " + from + " until " + to + (asCsv ? ", csv" : "")
                        + (result.truncated() ? ", truncated" : "")));
        if (asCsv) {
            return ResponseEntity.ok().contentType(CSV)
                    .header(HttpHeaders.CONTENT_DISPOSITION, ContentDisposition.attachment()
                            .filename("access-report-" + FILE_TIME.format(now) + ".csv").build().toString())
                    .header("X-Report-Truncated", Boolean.toString(result.truncated()))
                    .body(csv(result.events()));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("since", from);
        body.put("until", to);
        body.put("count", result.events().size());
        body.put("truncated", result.truncated());
        body.put("events", result.events());
        return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON).body(body);
    }

    /** {@code format} decides when given; otherwise an Accept naming text/csv (and not JSON first). */
    static boolean wantsCsv(String format, String accept) {
        if (format != null && !format.isBlank()) {
            return switch (format.trim().toLowerCase(java.util.Locale.ROOT)) {
                case "csv" -> true;
                case "json" -> false;
                default -> throw new IllegalArgumentException("format is csv or json");
            };
        }
        if (accept == null) {
            return false;
        }
        List<MediaType> types = MediaType.parseMediaTypes(accept);
        MediaType.sortBySpecificityAndQuality(types);
        for (MediaType t : types) {
            if (t.isCompatibleWith(MediaType.APPLICATION_JSON) && !t.isWildcardType()) {
                return false;
            }
            if (t.getType().equals("text") && t.getSubtype().equals("csv")) {
                return true;
            }
        }
        return false;
    }

    /** An instant ({@code 2026-11-29T08:00:00Z}) or a date ({@code 2026-11-29}, midnight UTC). */
    static Instant instant(String name, String text) {
        String t = text.trim();
        try {
            return t.length() == 10 ? LocalDate.parse(t).atStartOfDay(ZoneOffset.UTC).toInstant()
                    : java.time.OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(name + " is a date (2026-11-29) or a time with offset"
                    + " (2026-11-29T08:00:00Z)");
        }
    }

    String csv(List<AccessReport.Event> events) throws JsonProcessingException {
        CsvSchema.Builder schema = CsvSchema.builder().setUseHeader(true);
        CSV_COLUMNS.forEach(schema::addColumn);
        List<Map<String, String>> rows = events.stream().map(AccessReportController::row).toList();
        return csv.writer(schema.build()).writeValueAsString(rows);
    }

    private static Map<String, String> row(AccessReport.Event e) {
        Map<String, String> row = new LinkedHashMap<>();
        row.put("at", e.at().toString());
        row.put("actor", cell(e.actor()));
        row.put("action", cell(e.action()));
        row.put("target", cell(e.target()));
        row.put("outcome", cell(e.outcome()));
        row.put("source", cell(e.source()));
        row.put("interface", cell(e.interfaceId()));
        row.put("messageId", e.messageId() == null ? "" : e.messageId().toString());
        row.put("detail", cell(e.detail()));
        row.put("eventId", Long.toString(e.id()));
        return row;
    }

    /**
     * A text cell as a spreadsheet will not run it: one starting with = + - @ (or a tab or CR) gets a
     * leading apostrophe (OWASP's CSV injection advice); quoting and escaping are the CSV writer's.
     */
    static String cell(String value) {
        if (value == null || value.isEmpty()) {
            return "";
        }
        return "=+-@\t\r".indexOf(value.charAt(0)) >= 0 ? "'" + value : value;
    }
}
