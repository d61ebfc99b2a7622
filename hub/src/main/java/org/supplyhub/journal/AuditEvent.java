package org.supplyhub.journal;

/**
 * One event to audit: who ({@code actor}) did what ({@code action}) to which ids, and how it ended.
 * {@code messageId} and {@code patientKey} (a {@link SearchKeys} key, never an MRN) say whose data it
 * touched, for the access report; {@code source} where the request came from (filled in from the current
 * HTTP request when not set); {@code count} how many like events the row stands for (refusals folded per
 * source and minute, see {@link AuditLog}). Built with {@link #of} and the withers.
 */
public record AuditEvent(String actor, String action, String interfaceId, String target, String outcome,
                         String detail, Long messageId, String patientKey, String source, int count) {

    public static AuditEvent of(String actor, String action) {
        return new AuditEvent(actor, action, null, null, null, null, null, null, null, 1);
    }

    public AuditEvent interfaceId(String value) {
        return new AuditEvent(actor, action, value, target, outcome, detail, messageId, patientKey, source, count);
    }

    public AuditEvent target(String value) {
        return new AuditEvent(actor, action, interfaceId, value, outcome, detail, messageId, patientKey, source, count);
    }

    public AuditEvent outcome(String value) {
        return new AuditEvent(actor, action, interfaceId, target, value, detail, messageId, patientKey, source, count);
    }

    public AuditEvent detail(String value) {
        return new AuditEvent(actor, action, interfaceId, target, outcome, value, messageId, patientKey, source, count);
    }

    /** The message it touched; also sets the target to {@code message <id>} when none is set. */
    public AuditEvent message(long id) {
        return new AuditEvent(actor, action, interfaceId, target == null ? "message " + id : target, outcome, detail,
                id, patientKey, source, count);
    }

    public AuditEvent patientKey(String value) {
        return new AuditEvent(actor, action, interfaceId, target, outcome, detail, messageId, value, source, count);
    }

    public AuditEvent source(String value) {
        return new AuditEvent(actor, action, interfaceId, target, outcome, detail, messageId, patientKey, value, count);
    }

    /** The row stands for {@code value} like events. */
    public AuditEvent count(int value) {
        return new AuditEvent(actor, action, interfaceId, target, outcome, detail, messageId, patientKey, source, value);
    }
}
