package org.supplyhub.ingest;

import org.supplyhub.config.RunningConfig;
import org.supplyhub.config.InterfaceDefinition;

import jakarta.servlet.http.HttpServletRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;
import org.supplyhub.ingest.IngestConfiguration.HubProperties;
import org.supplyhub.journal.AuditLog;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.Charset;
import java.security.Principal;

/**
 * {@code POST /hl7/{interfaceId}}: ER7 in the body, the ACK (AA/AE/AR) back with 200. Problems with
 * the HTTP request itself (unknown interface, wrong content type, too large) are 4xx problem JSON.
 */
@RestController
public class Hl7HttpController {

    private static final Logger log = LoggerFactory.getLogger(Hl7HttpController.class);

    static final MediaType HL7 = MediaType.parseMediaType("application/hl7-v2");
    static final MediaType HL7_ER7 = MediaType.parseMediaType("x-application/hl7-v2+er7");

    private final RunningConfig interfaces;
    private final IntakeService intake;
    private final long maxBytes;

    public Hl7HttpController(RunningConfig interfaces, IntakeService intake, HubProperties hub) {
        this.interfaces = interfaces;
        this.intake = intake;
        this.maxBytes = hub.maxMessageSize().toBytes();
    }

    @PostMapping("/hl7/{interfaceId}")
    public ResponseEntity<?> post(@PathVariable String interfaceId, HttpServletRequest request, Principal principal)
            throws IOException {
        InterfaceDefinition iface = interfaces.find(interfaceId).orElse(null);
        if (iface == null) {
            return problem(HttpStatus.NOT_FOUND, "Unknown interface", "No interface '" + interfaceId + "' is configured.");
        }
        MediaType type;
        try {
            type = request.getContentType() == null ? null : MediaType.parseMediaType(request.getContentType());
        } catch (RuntimeException e) {
            type = null;
        }
        if (type == null || !(type.equalsTypeAndSubtype(HL7) || type.equalsTypeAndSubtype(HL7_ER7))) {
            return problem(HttpStatus.UNSUPPORTED_MEDIA_TYPE, "Unsupported content type",
                    "Send ER7 text as application/hl7-v2 (or x-application/hl7-v2+er7).");
        }
        if (request.getContentLengthLong() > maxBytes) {
            return tooLarge();
        }
        byte[] body = readAtMost(request.getInputStream(), maxBytes);
        if (body == null) {
            return tooLarge();
        }
        if (body.length == 0) {
            return problem(HttpStatus.BAD_REQUEST, "Empty body", "The request body must hold one HL7 v2 message.");
        }
        Charset declared = type.getCharset();
        String caller = principal != null ? AuditLog.client(principal) : AuditLog.anonymous(request.getRemoteAddr());
        IntakeResult result;
        try {
            result = intake.receive(iface, body, declared, caller);
        } catch (RuntimeException | VirtualMachineError e) {
            // intake answers every message it can read; this is a defect or the JVM out of room:
            // a problem without details (they may quote the message), never Spring's default body
            log.error("Interface {}: no answer could be built for a message from {}: {}", iface.id(), caller,
                    e.getClass().getSimpleName());
            return problem(HttpStatus.INTERNAL_SERVER_ERROR, "Internal error",
                    "The message was not accepted; resend it later.");
        }
        return ResponseEntity.ok()
                .contentType(new MediaType(HL7, result.charset()))
                .header("X-Hl7-Ack-Code", result.ackCode())
                .body(result.ackBytes());
    }

    /**
     * The body could not be read: the sender's connection failed or was too slow. That is for the
     * servlet filters to answer (BodyReadDeadline turns a trickling sender into a 408), not a 500.
     */
    @ExceptionHandler(IOException.class)
    void bodyUnreadable(IOException e) throws IOException {
        throw e;
    }

    /** Anything else that goes wrong on this endpoint: problem JSON without details. */
    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e) {
        log.warn("HL7 HTTP request failed: {}", e.getClass().getSimpleName());
        return problem(HttpStatus.INTERNAL_SERVER_ERROR, "Internal error", "The request could not be processed.");
    }

    private ResponseEntity<ProblemDetail> tooLarge() {
        return problem(HttpStatus.PAYLOAD_TOO_LARGE, "Message too large",
                "The message exceeds the limit of " + maxBytes + " bytes.");
    }

    static ResponseEntity<ProblemDetail> problem(HttpStatus status, String title, String detail) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setTitle(title);
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }

    /** The body, or null if it is longer than the limit (chunked requests have no Content-Length). */
    private static byte[] readAtMost(InputStream in, long max) throws IOException {
        byte[] body = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, max + 1));
        return body.length > max ? null : body;
    }
}
