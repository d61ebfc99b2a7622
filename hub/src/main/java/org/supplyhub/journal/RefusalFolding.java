package org.supplyhub.journal;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Refused requests (a scanner, a misconfigured sender) fold per source (address, else actor), caller, action,
 * outcome and minute: the first {@code rowsPerMinute} refusals of a minute are written at once, each with
 * its own detail; the rest of that minute are counted and written as one row carrying the count when the
 * minute has closed. Memory is bounded: beyond {@code maxSources} tracked keys, new ones share one bucket
 * per action ("many sources").
 */
final class RefusalFolding {

    /** The actions folded: requests and connections refused before anything was done. */
    static final Set<String> ACTIONS = Set.of("ACCESS_DENIED", "TLS_REFUSED", "CONNECTION_REFUSED", "TOKEN_REFUSED",
            "SIGN_IN_FAILED");

    static final String MANY_SOURCES = "many sources";
    private static final DateTimeFormatter MINUTE = DateTimeFormatter.ofPattern("HH:mm").withZone(ZoneOffset.UTC);

    private record Key(String action, String source, String actor, String outcome) { }

    private static final class Window {
        final Instant minute;
        AuditEvent last;
        int written = 1;
        int folded;

        Window(Instant minute) {
            this.minute = minute;
        }
    }

    private final int maxSources;
    private final int rowsPerMinute;
    private final Map<Key, Window> windows = new LinkedHashMap<>();
    private final List<AuditEvent> ready = new ArrayList<>();

    RefusalFolding(int maxSources, int rowsPerMinute) {
        this.maxSources = maxSources;
        this.rowsPerMinute = Math.max(1, rowsPerMinute);
    }

    static boolean folds(AuditEvent event) {
        return ACTIONS.contains(event.action());
    }

    /**
     * Takes a refusal at {@code now}: returns the event to write at once (the first of its minute), or null
     * when it was counted into its minute's row. Rows of minutes now over wait for {@link #drain}.
     */
    synchronized AuditEvent admit(AuditEvent event, Instant now) {
        List<AuditEvent> closed = ready;
        Instant minute = now.truncatedTo(ChronoUnit.MINUTES);
        String source = event.source() != null ? event.source() : event.actor();
        Key key = new Key(event.action(), source, event.actor(), event.outcome());
        Window w = windows.get(key);
        if (w != null && !w.minute.equals(minute)) {
            add(closed, close(key, w));
            windows.remove(key);
            w = null;
        }
        if (w == null) {
            if (windows.size() >= maxSources) {
                closeBefore(minute, closed); // make room from minutes that are over
            }
            if (windows.size() >= maxSources) {
                key = new Key(event.action(), MANY_SOURCES, null, null);
                w = windows.get(key);
                if (w != null && !w.minute.equals(minute)) {
                    add(closed, close(key, w));
                    windows.remove(key);
                    w = null;
                }
                if (w != null) {
                    w.folded++;
                    w.last = event;
                    return null;
                }
                // the shared bucket's first refusal of the minute is written, marked as such
                event = event.detail(bounded("many sources refused; first: " + source + "; " + event.detail()));
            }
            windows.put(key, new Window(minute));
            return event;
        }
        if (w.written < rowsPerMinute) {
            w.written++;
            return event;
        }
        w.folded++;
        w.last = event;
        return null;
    }

    /**
     * The rows to write now: of every minute over by {@code now} (their windows forgotten), or of every
     * window when {@code now} is null (at shutdown).
     */
    synchronized List<AuditEvent> drain(Instant now) {
        List<AuditEvent> closed = new ArrayList<>(ready);
        ready.clear();
        closeBefore(now == null ? Instant.MAX : now.truncatedTo(ChronoUnit.MINUTES), closed);
        return closed;
    }

    synchronized int tracked() {
        return windows.size();
    }

    private void closeBefore(Instant minute, List<AuditEvent> closed) {
        for (Iterator<Map.Entry<Key, Window>> it = windows.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<Key, Window> e = it.next();
            if (e.getValue().minute.isBefore(minute)) {
                add(closed, close(e.getKey(), e.getValue()));
                it.remove();
            }
        }
    }

    /** The row of a window's folded refusals, or null when only its first one came. */
    private static AuditEvent close(Key key, Window w) {
        if (w.folded == 0) {
            return null;
        }
        String span = MINUTE.format(w.minute) + "–" + MINUTE.format(w.minute.plus(1, ChronoUnit.MINUTES)) + " UTC";
        return w.last.count(w.folded).source(MANY_SOURCES.equals(key.source()) ? MANY_SOURCES : w.last.source())
                .detail(bounded(w.folded + " more refused " + span + (MANY_SOURCES.equals(key.source())
                        ? " from many sources" : "") + "; last: " + w.last.detail()));
    }

    private static void add(List<AuditEvent> rows, AuditEvent row) {
        if (row != null) {
            rows.add(row);
        }
    }

    private static String bounded(String text) {
        return text.length() <= 500 ? text : text.substring(0, 500);
    }
}
