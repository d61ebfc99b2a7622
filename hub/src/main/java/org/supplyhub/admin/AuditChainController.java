package org.supplyhub.admin;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.supplyhub.audit.AuditChain;
import org.supplyhub.audit.AuditChainService;
import org.supplyhub.audit.ChainVerifier;
import org.supplyhub.audit.Checkpoint;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;

import java.security.Principal;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The audit chain over HTTP ({@code audit:read}): {@code GET /api/audit/verify} walks the chain and names
 * the first broken row; {@code POST /api/audit/checkpoint} seals and signs a checkpoint now. Both audited.
 */
@RestController
@RequestMapping("/api/audit")
public class AuditChainController {

    private final AuditChainService chain;
    private final AuditLog audit;

    public AuditChainController(AuditChainService chain, AuditLog audit) {
        this.chain = chain;
        this.audit = audit;
    }

    @GetMapping("/verify")
    public ChainVerifier.Report verify(Principal caller) throws SQLException {
        ChainVerifier.Report report = chain.verify();
        audit.record(AuditEvent.of(AuditLog.client(caller), "AUDIT_VERIFY").target("audit chain")
                .outcome(report.valid() ? "VALID" : "BROKEN")
                .detail(report.rowsVerified() + " rows" + (report.firstBrokenRow() == null ? ""
                        : ", first broken: row " + report.firstBrokenRow().id() + " seq " + report.firstBrokenRow().seq()
                        + " " + report.firstBrokenRow().kind())));
        return report;
    }

    @PostMapping("/checkpoint")
    public ResponseEntity<Object> checkpoint(Principal caller) throws SQLException {
        try {
            Optional<Checkpoint> made = chain.checkpointNow("ON_DEMAND", true);
            Checkpoint c = made.orElseThrow();
            audit.record(AuditEvent.of(AuditLog.client(caller), "AUDIT_CHECKPOINT").target("seq " + c.seq())
                    .outcome("OK").detail("checkpoint " + c.id()));
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("checkpointId", c.id());
            body.put("chain", c.chainId());
            body.put("seq", c.seq());
            body.put("hash", c.hash());
            body.put("anchorSeq", c.anchorSeq());
            body.put("anchorHash", c.anchorHash());
            body.put("at", c.at());
            body.put("keyId", c.keyId());
            body.put("signature", c.signature());
            body.put("payload", c.payload());
            return ResponseEntity.ok(body);
        } catch (AuditChain.ChainBrokenException e) {
            audit.record(AuditEvent.of(AuditLog.client(caller), "AUDIT_CHECKPOINT").outcome("REFUSED")
                    .detail(e.getMessage()));
            ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.CONFLICT,
                    "The audit chain does not verify, so it is not signed: " + e.getMessage()
                            + ". GET /api/audit/verify names every problem.");
            problem.setTitle("Audit chain broken");
            return ResponseEntity.status(HttpStatus.CONFLICT).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                    .body(problem);
        }
    }

    @ExceptionHandler(SQLException.class)
    ResponseEntity<ProblemDetail> unavailable(SQLException e) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
                "The journal database could not be read: " + e.getClass().getSimpleName());
        problem.setTitle("Journal unavailable");
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(problem);
    }
}
