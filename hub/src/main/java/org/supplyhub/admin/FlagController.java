package org.supplyhub.admin;

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
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;

import java.security.Principal;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Implant safety flags ("needs attention"): list them ({@code messages:read}), and release one
 * ({@code messages:replay}), which lets billing have the charge the flag held. Every call is audited
 * with the caller's identity.
 */
@RestController
@RequestMapping("/api/flags")
public class FlagController {

    private static final Set<String> STATUSES = Set.of("OPEN", "RELEASED", "SUPERSEDED");

    private final HeldCharges flags;
    private final AuditLog audit;

    public FlagController(HeldCharges flags, AuditLog audit) {
        this.flags = flags;
        this.audit = audit;
    }

    @GetMapping
    public ResponseEntity<?> search(@RequestParam(required = false) String status,
                                    @RequestParam(name = "interface", required = false) String interfaceId,
                                    @RequestParam(defaultValue = "100") int limit, Principal caller) {
        if (status != null && !STATUSES.contains(status.toUpperCase(java.util.Locale.ROOT))) {
            return problem(HttpStatus.BAD_REQUEST, "Unknown flag status", "status is one of open, released, superseded");
        }
        List<HeldCharges.Flag> found = flags.search(status, interfaceId, Math.max(1, Math.min(limit, 500)));
        audit.record(AuditLog.client(caller), "FLAG_SEARCH", interfaceId, "status " + (status == null ? "any" : status),
                "OK", found.size() + " found");
        return ResponseEntity.ok(found);
    }

    @GetMapping("/{id}")
    public ResponseEntity<?> one(@PathVariable long id, Principal caller) {
        return flags.find(id).<ResponseEntity<?>>map(f -> {
            audit.record(AuditEvent.of(AuditLog.client(caller), "FLAG_READ").interfaceId(f.interfaceId())
                    .target("flag " + id).message(f.messageId()).outcome("OK"));
            return ResponseEntity.ok(f);
        }).orElseGet(() -> {
            audit.record(AuditLog.client(caller), "FLAG_READ", null, "flag " + id, "404", null);
            return problem(HttpStatus.NOT_FOUND, "Flag not found", "No implant flag " + id + ".");
        });
    }

    /**
     * 200 with the flag and the billing destinations now owed its line's charge; 404 for no such
     * flag; 409 when it is not open (released already, or superseded by a reprocess), or when the charge
     * it holds has no billing destination to go to now (the flag stays open).
     */
    @PostMapping("/{id}/release")
    public ResponseEntity<?> release(@PathVariable long id, Principal caller) {
        // audited by the release itself, in its transaction
        HeldCharges.Release r = flags.release(id, AuditLog.client(caller));
        return switch (r.outcome()) {
            case NOT_FOUND -> problem(HttpStatus.NOT_FOUND, "Flag not found", r.detail());
            case NOT_OPEN -> problem(HttpStatus.CONFLICT, "Flag not open", r.detail());
            case NO_BILLING -> problem(HttpStatus.CONFLICT, "Held charge has no billing destination", r.detail());
            case RELEASED -> {
                Map<String, Object> body = new LinkedHashMap<>();
                body.put("flag", r.flag());
                body.put("chargeQueuedFor", r.billingRows());
                body.put("detail", r.detail());
                yield ResponseEntity.ok(body);
            }
        };
    }

    private static ResponseEntity<ProblemDetail> problem(HttpStatus status, String title, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setTitle(title);
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }
}
