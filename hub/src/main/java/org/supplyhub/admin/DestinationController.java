package org.supplyhub.admin;

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
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;

import java.security.Principal;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Destinations in the admin API: their state ({@code messages:read}), pause and resume, and the
 * bulk replay of dead deliveries by filter ({@code messages:replay}). Every call is audited.
 */
@RestController
@RequestMapping("/api")
public class DestinationController {

    private final DestinationStatus status;
    private final BulkReplay bulk;
    private final AuditLog audit;

    public DestinationController(DestinationStatus status, BulkReplay bulk, AuditLog audit) {
        this.status = status;
        this.bulk = bulk;
        this.audit = audit;
    }

    @GetMapping("/destinations")
    public List<DestinationStatus.Row> destinations(Principal caller) {
        List<DestinationStatus.Row> rows = status.all();
        audit.record(AuditEvent.of(AuditLog.client(caller), "DESTINATIONS_READ").target("all").outcome("OK")
                .detail(rows.size() + " destinations"));
        return rows;
    }

    @PostMapping("/destinations/{name}/pause")
    public ResponseEntity<?> pause(@PathVariable String name, Principal caller) {
        return setPaused(name, true, AuditLog.client(caller));
    }

    @PostMapping("/destinations/{name}/resume")
    public ResponseEntity<?> resume(@PathVariable String name, Principal caller) {
        return setPaused(name, false, AuditLog.client(caller));
    }

    private ResponseEntity<?> setPaused(String name, boolean paused, String actor) {
        return status.setPaused(name, paused, actor)
                .<ResponseEntity<?>>map(changed -> ResponseEntity.ok(Map.of("destination", name, "paused", paused,
                        "changed", changed)))
                .orElseGet(() -> problem(HttpStatus.NOT_FOUND, "Destination not found",
                        "No destination '" + name + "' in the running configuration."));
    }

    /** Replays the DEAD deliveries of the messages the filter matches; {@code dryRun=true} only counts them. */
    @PostMapping("/replay")
    public ResponseEntity<?> replay(@RequestParam(name = "interface", required = false) String interfaceId,
                                    @RequestParam(required = false) String status,
                                    @RequestParam(name = "ack", required = false) String ackCode,
                                    @RequestParam(required = false) String controlId,
                                    @RequestParam(required = false) @DateTimeFormat(iso = DateTimeFormat.ISO.DATE_TIME) Instant since,
                                    @RequestParam(required = false) @DateTimeFormat(iso = DateTimeFormat.ISO.DATE_TIME) Instant until,
                                    @RequestParam(required = false) String patient,
                                    @RequestParam(required = false) String account,
                                    @RequestParam(required = false) String destination,
                                    @RequestParam(defaultValue = "false") boolean dryRun,
                                    Principal caller) {
        MessageQueries.Search filter = new MessageQueries.Search(interfaceId, status, ackCode, controlId, since, until,
                patient, account, null, BulkReplay.MAX_MESSAGES);
        BulkReplay.Result r = bulk.run(filter, destination, dryRun, AuditLog.client(caller));
        if (r.truncated() && !dryRun) {
            return problem(HttpStatus.UNPROCESSABLE_ENTITY, "Filter too wide", "The filter matches more than "
                    + BulkReplay.MAX_MESSAGES + " messages; narrow it (since, until, interface) and replay again.");
        }
        return ResponseEntity.ok(Map.of("dryRun", dryRun, "messages", r.messages(), "deliveries", r.deliveries(),
                "truncated", r.truncated(), "replayed", r.replayed()));
    }

    private static ResponseEntity<ProblemDetail> problem(HttpStatus status, String title, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setTitle(title);
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }
}
