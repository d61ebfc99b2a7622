package org.supplyhub.delivery;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which destinations an operator paused. Kept in the database (V11), not in memory, so a pause
 * holds on every node: each worker asks before it claims, and a claim already in flight finishes.
 */
@Repository
public class DestinationPauses {

    /** Who paused or resumed a destination last, and when. */
    public record State(String destination, boolean paused, String changedBy, Instant changedAt) { }

    private final JdbcTemplate jdbc;

    public DestinationPauses(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    public boolean paused(String destination) {
        return Boolean.TRUE.equals(jdbc.query("select paused from destination_state where destination = ?",
                rs -> rs.next() ? rs.getBoolean(1) : Boolean.FALSE, destination));
    }

    /** Sets the destination paused or not; returns whether that changed anything. */
    public boolean set(String destination, boolean paused, String actor) {
        Timestamp now = Timestamp.from(Instant.now());
        int changed = jdbc.update("update destination_state set paused = ?, changed_by = ?, changed_at = ?"
                + " where destination = ? and paused <> ?", paused, actor, now, destination, paused);
        if (changed > 0) {
            return true;
        }
        if (paused(destination) == paused) {
            return false;
        }
        try {
            return jdbc.update("insert into destination_state (destination, paused, changed_by, changed_at)"
                    + " values (?, ?, ?, ?)", destination, paused, actor, now) > 0;
        } catch (org.springframework.dao.DuplicateKeyException raced) { // another node inserted it a moment ago
            return set(destination, paused, actor);
        }
    }

    /** Every destination that was ever paused, by name. */
    public Map<String, State> all() {
        Map<String, State> states = new LinkedHashMap<>();
        jdbc.query("select destination, paused, changed_by, changed_at from destination_state order by destination",
                rs -> {
                    states.put(rs.getString(1), new State(rs.getString(1), rs.getBoolean(2), rs.getString(3),
                            rs.getTimestamp(4).toInstant()));
                });
        return states;
    }
}
