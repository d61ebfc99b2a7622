package org.supplyhub.admin.console;

import org.supplyhub.admin.MessageQueries;

import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The console's message filter as typed in {@code form#message-search} (and the bulk replay form):
 * blank fields mean "any"; times are {@code datetime-local} values in the console's zone, or ISO
 * instants. {@link #errors()} names each field that could not be read.
 */
public record MessageFilter(String interfaceId, String status, String ack, String controlId, String since,
                            String until, String patient, String account, String before, String destination) {

    static final Set<String> STATUSES = Set.of("ACCEPTED", "ERROR", "REJECTED");
    static final Set<String> ACKS = Set.of("AA", "AE", "AR");

    public static MessageFilter of(Map<String, String> params) {
        return new MessageFilter(blank(params.get("interface")), blank(params.get("status")), blank(params.get("ack")),
                blank(params.get("controlId")), blank(params.get("since")), blank(params.get("until")),
                blank(params.get("patient")), blank(params.get("account")), blank(params.get("before")),
                blank(params.get("destination")));
    }

    /** What could not be read, by field name; empty when the filter is usable. */
    public List<String> errors(ZoneId zone) {
        List<String> errors = new ArrayList<>();
        if (status != null && !STATUSES.contains(status)) {
            errors.add("status: one of ACCEPTED, ERROR, REJECTED");
        }
        if (ack != null && !ACKS.contains(ack)) {
            errors.add("ack: one of AA, AE, AR");
        }
        if (since != null && time(since, zone) == null) {
            errors.add("since: a date and time like 2026-11-29T08:00");
        }
        if (until != null && time(until, zone) == null) {
            errors.add("until: a date and time like 2026-11-29T18:00");
        }
        if (before != null && !before.matches("\\d{1,18}")) {
            errors.add("before: a message id");
        }
        return errors;
    }

    public MessageQueries.Search search(ZoneId zone, int limit) {
        return new MessageQueries.Search(interfaceId, status, ack, controlId, time(since, zone), time(until, zone),
                patient, account, before == null ? null : Long.valueOf(before), limit);
    }

    /** The filter's fields as request parameters (for a next-page link or a confirm form), blank ones left out. */
    public Map<String, String> params() {
        Map<String, String> p = new LinkedHashMap<>();
        put(p, "interface", interfaceId);
        put(p, "status", status);
        put(p, "ack", ack);
        put(p, "controlId", controlId);
        put(p, "since", since);
        put(p, "until", until);
        put(p, "patient", patient);
        put(p, "account", account);
        put(p, "destination", destination);
        return p;
    }

    static Instant time(String value, ZoneId zone) {
        if (value == null) {
            return null;
        }
        try {
            return Instant.parse(value);
        } catch (DateTimeParseException notInstant) {
            try {
                return LocalDateTime.parse(value).atZone(zone).toInstant();
            } catch (DateTimeParseException notLocal) {
                return null;
            }
        }
    }

    private static void put(Map<String, String> p, String name, String value) {
        if (value != null) {
            p.put(name, value);
        }
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
