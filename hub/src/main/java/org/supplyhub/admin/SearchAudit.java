package org.supplyhub.admin;

import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;

import java.util.List;

/**
 * How a message search is audited, by the API and the console alike: one MESSAGE_SEARCH row naming the
 * criteria (a patient by their keyed hash, never the MRN), and, unless the search named the patient,
 * one LISTED row per message it listed, so that a search by account, status, control id or interface
 * shows in the access report of every patient whose messages it showed (as device searches do).
 */
public final class SearchAudit {

    private SearchAudit() {
    }

    public static void searched(AuditLog audit, MessageQueries messages, String actor, MessageQueries.Search search,
                                List<MessageQueries.Summary> found, String detail) {
        String target = search.controlId() != null ? "control id " + search.controlId()
                : search.patient() != null ? "patient" : search.account() != null ? "account"
                : "status " + (search.status() == null ? "any" : search.status());
        audit.record(AuditEvent.of(actor, "MESSAGE_SEARCH").interfaceId(search.interfaceId()).target(target)
                .patientKey(messages.patientKey(search.patient())).outcome("OK").detail(detail));
        if (search.patient() != null) {
            return; // every message listed is that patient's: the row above is in their report
        }
        for (MessageQueries.Summary m : found) {
            audit.record(AuditEvent.of(actor, "MESSAGE_SEARCH").interfaceId(m.interfaceId()).message(m.id())
                    .outcome("LISTED").detail("listed by a search by " + target));
        }
    }
}
