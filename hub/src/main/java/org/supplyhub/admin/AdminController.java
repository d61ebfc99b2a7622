package org.supplyhub.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.springframework.format.annotation.DateTimeFormat;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.supplyhub.delivery.HeldCharges;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;

import java.io.IOException;
import java.security.Principal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The admin API over the journal: find messages, read one (summary, raw ER7, FHIR outputs, delivery
 * attempts), replay its dead deliveries, reprocess it with the current mapping, and read the audit trail. Scopes: {@code messages:read}
 * for reads, {@code messages:replay} for replays (see SecurityConfiguration). Every call is audited.
 */
@RestController
@RequestMapping("/api")
public class AdminController {

    private final MessageQueries messages;
    private final AuditLog audit;
    private final ObjectMapper json;
    private final IntakeService intake;
    private final HeldCharges flags;

    public AdminController(MessageQueries messages, AuditLog audit, ObjectMapper json, IntakeService intake,
                           HeldCharges flags) {
        this.intake = intake;
        this.flags = flags;
        this.messages = messages;
        this.audit = audit;
        this.json = json;
    }

    @GetMapping("/messages")
    public List<MessageQueries.Summary> search(@RequestParam(name = "interface", required = false) String interfaceId,
                                               @RequestParam(required = false) String status,
                                               @RequestParam(name = "ack", required = false) String ackCode,
                                               @RequestParam(required = false) String controlId,
                                               @RequestParam(required = false) @DateTimeFormat(iso = DateTimeFormat.ISO.DATE_TIME) Instant since,
                                               @RequestParam(required = false) @DateTimeFormat(iso = DateTimeFormat.ISO.DATE_TIME) Instant until,
                                               @RequestParam(required = false) String patient,
                                               @RequestParam(required = false) String account,
                                               @RequestParam(required = false) Long before,
                                               @RequestParam(defaultValue = "50") int limit,
                                               Principal caller) {
        MessageQueries.Search search = new MessageQueries.Search(interfaceId, status, ackCode, controlId, since, until,
                patient, account, before, limit);
        List<MessageQueries.Summary> found = messages.search(search);
        SearchAudit.searched(audit, messages, AuditLog.client(caller), search, found, found.size() + " found");
        return found;
    }

    @GetMapping("/messages/{id}")
    public ResponseEntity<?> one(@PathVariable long id, Principal caller) {
        return messages.find(id).<ResponseEntity<?>>map(m -> {
            audit.record(read(caller, id).interfaceId(m.interfaceId()).outcome("OK").detail("summary"));
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("message", m);
            body.put("deliveries", messages.deliveries(id));
            body.put("flags", flags.ofMessage(id)); // implant safety flags: what needs attention
            return ResponseEntity.ok(body);
        }).orElseGet(() -> notFound(caller, id));
    }

    @GetMapping("/messages/{id}/raw")
    public ResponseEntity<?> raw(@PathVariable long id, Principal caller) {
        Optional<MessageQueries.Summary> found = messages.find(id);
        if (found.isPresent() && found.get().purged() != null) {
            return gone(caller, found.get(), "raw");
        }
        return (found.isEmpty() ? Optional.<String>empty() : messages.raw(id)).<ResponseEntity<?>>map(raw -> {
            audit.record(read(caller, id).outcome("OK").detail("raw"));
            // segments end with CR on the wire; LF makes them readable in a terminal
            return ResponseEntity.ok().contentType(MediaType.TEXT_PLAIN).body(raw.replace('\r', '\n'));
        }).orElseGet(() -> notFound(caller, id));
    }

    @GetMapping("/messages/{id}/outputs")
    public ResponseEntity<?> outputs(@PathVariable long id, Principal caller) throws IOException {
        Optional<MessageQueries.Summary> found = messages.find(id);
        if (found.isEmpty()) {
            return notFound(caller, id);
        }
        if (found.get().purged() != null) {
            return gone(caller, found.get(), "outputs");
        }
        List<Map<String, Object>> body = new ArrayList<>();
        for (MessageQueries.Output o : messages.outputs(id)) {
            JsonNode resource = json.readTree(o.resource());
            body.add(Map.of("line", o.lineNo(), "resourceType", o.resourceType(), "id", o.resourceId(), "resource", resource));
        }
        audit.record(read(caller, id).outcome("OK").detail("outputs"));
        return ResponseEntity.ok(body);
    }

    @GetMapping("/messages/{id}/attempts")
    public ResponseEntity<?> attempts(@PathVariable long id, Principal caller) {
        if (messages.find(id).isEmpty()) {
            return notFound(caller, id);
        }
        audit.record(read(caller, id).outcome("OK").detail("attempts"));
        return ResponseEntity.ok(messages.deliveries(id));
    }

    @PostMapping("/messages/{id}/replay")
    public ResponseEntity<?> replay(@PathVariable long id, @RequestParam(required = false) String destination,
                                    Principal caller) {
        if (messages.find(id).isEmpty()) {
            return notFound(caller, id);
        }
        int replayed = messages.replay(id, destination);
        audit.record(AuditEvent.of(AuditLog.client(caller), "REPLAY").message(id)
                .target("message " + id + (destination == null ? "" : " to " + destination))
                .outcome("OK").detail(replayed + " dead deliveries made due"));
        return ResponseEntity.ok(Map.of("message", id, "replayed", replayed));
    }

    /**
     * Maps a stored message again with the interface's current profile, as a new revision linked to
     * it: 200 with the revision's id; 409 when it was superseded, rejected, or (ACCEPTED) some of its
     * deliveries went out already; 422 when it still does not map.
     */
    @PostMapping("/messages/{id}/reprocess")
    public ResponseEntity<?> reprocess(@PathVariable long id, Principal caller) {
        Optional<MessageQueries.Summary> found = messages.find(id);
        if (found.isPresent() && found.get().purged() != null) {
            return gone(caller, found.get(), "reprocess"); // its content is a tombstone: nothing to map
        }
        IntakeService.Reprocessed r = intake.reprocess(id);
        if (r.outcome() == IntakeService.Reprocessed.Outcome.NOT_FOUND) {
            return notFound(caller, id);
        }
        audit.record(AuditEvent.of(AuditLog.client(caller), "REPROCESS").message(id).outcome(r.outcome().name())
                .detail(r.revisionId() == null ? truncateDetail(r.detail()) : "revision message " + r.revisionId()));
        return switch (r.outcome()) {
            case ACCEPTED -> ResponseEntity.ok(Map.of("message", id, "revision", r.revisionId(), "status", "ACCEPTED"));
            case CONFLICT -> problem(HttpStatus.CONFLICT, "Message not reprocessed", r.detail());
            default -> problem(HttpStatus.UNPROCESSABLE_ENTITY, "Message still does not map", r.detail());
        };
    }

    /** The audit trail keeps ids, not content: a mapping error's text can quote field values. */
    public static String truncateDetail(String detail) {
        int colon = detail.indexOf(':');
        return colon < 0 ? detail : detail.substring(0, colon);
    }

    private static ResponseEntity<ProblemDetail> problem(HttpStatus status, String title, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setTitle(title);
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }

    @GetMapping("/audit")
    public List<AuditLog.Event> audit(@RequestParam(required = false) String actor,
                                      @RequestParam(required = false) String action,
                                      @RequestParam(required = false) @DateTimeFormat(iso = DateTimeFormat.ISO.DATE_TIME) Instant since,
                                      @RequestParam(defaultValue = "100") int limit,
                                      Principal caller) {
        List<AuditLog.Event> events = audit.search(actor, action, since, limit);
        audit.record(AuditLog.client(caller), "AUDIT_READ", null, actor != null ? "actor " + actor : "all", "OK",
                events.size() + " events");
        return events;
    }

    /** A MESSAGE_READ of message {@code id}: the access report finds it by the message's patient. */
    private static AuditEvent read(Principal caller, long id) {
        return AuditEvent.of(AuditLog.client(caller), "MESSAGE_READ").message(id);
    }

    /** 410: the retention purge replaced this content with a tombstone; the summary stays readable. */
    private ResponseEntity<ProblemDetail> gone(Principal caller, MessageQueries.Summary m, String what) {
        audit.record(AuditEvent.of(AuditLog.client(caller), "reprocess".equals(what) ? "REPROCESS" : "MESSAGE_READ")
                .message(m.id()).interfaceId(m.interfaceId()).outcome("410").detail(what));
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.GONE, "The content of message " + m.id()
                + " was purged at " + m.purged().at() + " (" + m.purged().reason() + "); its summary, deliveries and"
                + " audit trail are kept.");
        problem.setTitle("Message content purged");
        problem.setProperty("purgedAt", m.purged().at().toString());
        problem.setProperty("reason", m.purged().reason());
        return ResponseEntity.status(HttpStatus.GONE).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }

    private ResponseEntity<ProblemDetail> notFound(Principal caller, long id) {
        audit.record(read(caller, id).outcome("404"));
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.NOT_FOUND, "No message " + id + " in the journal.");
        problem.setTitle("Message not found");
        return ResponseEntity.status(HttpStatus.NOT_FOUND).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }
}
