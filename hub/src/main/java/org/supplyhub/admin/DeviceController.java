package org.supplyhub.admin;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.util.UriComponentsBuilder;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;
import org.supplyhub.journal.DeviceIndex;
import org.supplyhub.mapping.udi.Udi;
import org.supplyhub.mapping.udi.UdiException;
import org.supplyhub.mapping.udi.UdiParser;

import java.security.Principal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Traceability: which patients received devices of a DI, lot or serial — what a recall coordinator
 * asks first. {@code GET /api/devices?di=…&lot=…&serial=…} or {@code ?udi=<carrier>} (its DI, lot and
 * serial, as the hub parses UDIs on messages). Scope {@code messages:read}; every call is audited with
 * its DI, and its lot and serial as keyed hashes (an implant serial identifies its patient, and the audit
 * trail holds no PHI in clear). Paged by {@code after} (the last use's id).
 */
@RestController
@RequestMapping("/api")
public class DeviceController {

    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;
    private static final int MAX_TERM = 100;

    /** One use as answered: the patient, where it was recorded, and the device. */
    public record Found(Patient patient, String account, long messageId, String interfaceId, int line, String kind,
                        OffsetDateTime serviceDate, Device device, long id) { }

    public record Patient(String system, String value) { }

    public record Device(String deviceIdentifier, String issuer, String lot, String serial, LocalDate expiry,
                         String itemId) { }

    private final DeviceIndex index;
    private final AuditLog audit;

    public DeviceController(DeviceIndex index, AuditLog audit) {
        this.index = index;
        this.audit = audit;
    }

    @GetMapping("/devices")
    public ResponseEntity<?> devices(@RequestParam(required = false) String udi,
                                     @RequestParam(required = false) String di,
                                     @RequestParam(required = false) String lot,
                                     @RequestParam(required = false) String serial,
                                     @RequestParam(required = false) String after,
                                     @RequestParam(required = false) String limit,
                                     Principal caller) {
        String actor = AuditLog.client(caller);
        DeviceIndex.Query query;
        long from;
        int max;
        try {
            query = query(udi, di, lot, serial);
            from = number(after, "after", 0, Long.MAX_VALUE, 0);
            max = (int) number(limit, "limit", 1, MAX_LIMIT, DEFAULT_LIMIT);
        } catch (IllegalArgumentException e) {
            audit.record(actor, "DEVICE_SEARCH", null, terms(udi != null ? index.auditTerm("udi", udi) : null, di, lot, serial), "400",
                    e.getMessage());
            ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, e.getMessage());
            problem.setTitle("Bad device query");
            return ResponseEntity.badRequest().contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
        }
        List<DeviceIndex.Use> uses = index.find(query, from, max);
        String terms = terms(null, query.deviceIdentifier(), query.lot(), query.serial());
        audit.record(actor, "DEVICE_SEARCH", null, terms, "OK", uses.size() + " uses" + (from > 0 ? " after " + from : ""));
        // the answer names patients: one row per message listed, so each patient's access report shows it
        uses.stream().map(DeviceIndex.Use::messageId).distinct().forEach(messageId -> audit.record(
                AuditEvent.of(actor, "DEVICE_SEARCH").message(messageId).outcome("LISTED").detail(terms)));
        Map<String, Object> body = new LinkedHashMap<>();
        Map<String, String> echo = new LinkedHashMap<>();
        echo.put("di", query.deviceIdentifier());
        echo.put("lot", query.lot());
        echo.put("serial", query.serial());
        body.put("query", echo);
        body.put("count", uses.size());
        body.put("uses", uses.stream().map(DeviceController::found).toList());
        body.put("next", uses.size() < max ? null : UriComponentsBuilder.fromPath("/api/devices")
                .queryParam("di", query.deviceIdentifier())
                .queryParamIfPresent("lot", java.util.Optional.ofNullable(query.lot()))
                .queryParamIfPresent("serial", java.util.Optional.ofNullable(query.serial()))
                .queryParam("after", uses.get(uses.size() - 1).id()).queryParam("limit", max)
                .encode().build().toUriString());
        return ResponseEntity.ok(body);
    }

    private static DeviceIndex.Query query(String udi, String di, String lot, String serial) {
        for (Map.Entry<String, String> term : Map.of("di", nz(di), "lot", nz(lot), "serial", nz(serial)).entrySet()) {
            if (term.getValue().length() > MAX_TERM) {
                throw new IllegalArgumentException(term.getKey() + " is longer than " + MAX_TERM + " characters");
            }
        }
        if (udi != null && !udi.isBlank()) {
            if (!nz(di).isBlank() || !nz(lot).isBlank() || !nz(serial).isBlank()) {
                throw new IllegalArgumentException("give udi alone (its DI, lot and serial are used), or di with lot"
                        + " and/or serial");
            }
            Udi parsed;
            try {
                parsed = UdiParser.parse(udi);
            } catch (UdiException e) {
                throw new IllegalArgumentException("udi: " + e.getMessage());
            }
            return new DeviceIndex.Query(parsed.deviceIdentifier(), parsed.lot(), parsed.serial());
        }
        if (di == null || di.isBlank()) {
            throw new IllegalArgumentException("give di (with lot and/or serial, or alone for every use of the device)"
                    + " or udi (a UDI carrier, e.g. (01)00889024123458(10)LOT7781A)");
        }
        return new DeviceIndex.Query(di, lot, serial);
    }

    private static long number(String text, String name, long min, long max, long absent) {
        if (text == null || text.isBlank()) {
            return absent;
        }
        try {
            long value = Long.parseLong(text.trim());
            if (value >= min && value <= max) {
                return value;
            }
        } catch (NumberFormatException e) {
            // said below
        }
        throw new IllegalArgumentException(name + " must be a whole number from " + min + " to " + max);
    }

    private static Found found(DeviceIndex.Use u) {
        return new Found(new Patient(u.patientSystem(), u.patientValue()), u.account(), u.messageId(), u.interfaceId(),
                u.line(), u.kind(), u.serviceDate(), new Device(u.deviceIdentifier(), u.udiIssuer(), u.lot(), u.serial(),
                u.expiry(), u.itemId()), u.id());
    }

    private String terms(String udi, String di, String lot, String serial) {
        StringBuilder s = new StringBuilder();
        if (udi != null) {
            s.append(udi);
        }
        if (di != null) {
            s.append(s.isEmpty() ? "" : " ").append("di ").append(di);
        }
        if (lot != null && !lot.isBlank()) {
            s.append(" ").append(index.auditTerm("lot", lot));
        }
        if (serial != null && !serial.isBlank()) {
            s.append(" ").append(index.auditTerm("serial", serial));
        }
        return s.isEmpty() ? "no terms" : s.toString().trim();
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
