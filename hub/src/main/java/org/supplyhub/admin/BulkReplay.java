package org.supplyhub.admin;

import org.springframework.jdbc.core.namedparam.MapSqlParameterSource;
import org.springframework.jdbc.core.namedparam.NamedParameterJdbcTemplate;
import org.springframework.stereotype.Component;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replays the DEAD deliveries of every message a search matches (optionally to one destination).
 * The messages are found by {@link MessageQueries#search} (keyed hashes, keyset pages), and each
 * one's rows made due again by {@link MessageQueries#replay}: one definition of both.
 */
@Component
public class BulkReplay {

    /** At most this many messages are looked through per request; a wider filter is refused, not cut short silently. */
    public static final int MAX_MESSAGES = 50_000;
    private static final int PAGE = 500;

    /**
     * What a bulk replay matched: messages with dead rows, and those rows; {@code truncated} if the
     * filter matched more than {@link #MAX_MESSAGES} messages; {@code replayed} whether the rows were made due.
     */
    public record Result(int messages, int deliveries, boolean truncated, boolean replayed) { }

    private final MessageQueries messages;
    private final NamedParameterJdbcTemplate jdbc;
    private final AuditLog audit;

    public BulkReplay(MessageQueries messages, NamedParameterJdbcTemplate jdbc, AuditLog audit) {
        this.messages = messages;
        this.jdbc = jdbc;
        this.audit = audit;
    }

    /**
     * Counts ({@code dryRun}) or replays the dead deliveries the filter matches, audited as
     * REPLAY_BULK_COUNT or REPLAY_BULK with the filter's criteria (a patient by its key, never its MRN).
     * A filter wider than {@link #MAX_MESSAGES} messages is counted but not replayed (outcome REFUSED).
     */
    public Result run(MessageQueries.Search filter, String destination, boolean dryRun, String actor) {
        Result counted = scan(filter, destination, false);
        boolean replay = !dryRun && !counted.truncated();
        Result result = replay ? scan(filter, destination, true) : counted;
        audit.record(AuditEvent.of(actor, dryRun ? "REPLAY_BULK_COUNT" : "REPLAY_BULK").interfaceId(filter.interfaceId())
                .target(describe(filter, destination)).patientKey(messages.patientKey(filter.patient()))
                .outcome(dryRun || replay ? "OK" : "REFUSED")
                .detail(result.deliveries() + " dead deliveries of " + result.messages() + " messages"
                        + (replay ? " made due" : dryRun ? " matched" : ": filter too wide, nothing replayed")));
        return result;
    }

    /** The filter in the audit trail: which criteria were set, values only for what is not PHI. */
    static String describe(MessageQueries.Search f, String destination) {
        StringBuilder s = new StringBuilder("filter");
        append(s, "status", f.status());
        append(s, "ack", f.ackCode());
        append(s, "controlId", f.controlId());
        append(s, "since", f.since());
        append(s, "until", f.until());
        append(s, "patient", f.patient() == null ? null : "(key)");
        append(s, "account", f.account() == null ? null : "(key)");
        append(s, "destination", destination);
        return s.toString();
    }

    private static void append(StringBuilder s, String name, Object value) {
        if (value != null) {
            s.append(' ').append(name).append('=').append(value);
        }
    }

    private Result scan(MessageQueries.Search filter, String destination, boolean replay) {
        int messageCount = 0;
        int deliveries = 0;
        int scanned = 0;
        Long before = filter.before();
        while (true) {
            List<MessageQueries.Summary> page = messages.search(new MessageQueries.Search(filter.interfaceId(),
                    filter.status(), filter.ackCode(), filter.controlId(), filter.since(), filter.until(),
                    filter.patient(), filter.account(), before, PAGE));
            if (page.isEmpty()) {
                return new Result(messageCount, deliveries, false, replay);
            }
            for (Map.Entry<Long, Integer> dead : dead(page, destination).entrySet()) {
                messageCount++;
                deliveries += replay ? messages.replay(dead.getKey(), destination) : dead.getValue();
            }
            scanned += page.size();
            if (page.size() < PAGE) {
                return new Result(messageCount, deliveries, false, replay);
            }
            if (scanned >= MAX_MESSAGES) {
                return new Result(messageCount, deliveries, true, replay);
            }
            before = page.get(page.size() - 1).id();
        }
    }

    /** Message id → its DEAD outbox rows (to the destination, if named), for the messages of one page. */
    private Map<Long, Integer> dead(List<MessageQueries.Summary> page, String destination) {
        MapSqlParameterSource args = new MapSqlParameterSource("ids", page.stream().map(MessageQueries.Summary::id).toList())
                .addValue("destination", destination);
        Map<Long, Integer> dead = new LinkedHashMap<>();
        jdbc.query("select message_id, count(*) from outbox where status = 'DEAD' and message_id in (:ids)"
                        + (destination == null ? "" : " and destination = :destination")
                        + " group by message_id order by message_id desc", args,
                rs -> {
                    dead.put(rs.getLong(1), rs.getInt(2));
                });
        return dead;
    }
}
