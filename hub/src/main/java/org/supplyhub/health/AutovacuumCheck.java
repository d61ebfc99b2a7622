package org.supplyhub.health;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Warns once at start when the journal's PostgreSQL runs with autovacuum off (or without
 * {@code track_counts}, which autovacuum needs to know what to do). Every message leaves
 * dead row versions in the outbox (a claim and a settle per destination) and the planner's
 * statistics are never refreshed: on such a server a delivery claim went from 0.2 to 2.7 ms a message
 * within one benchmark run, plans cached on the empty tables scanning them whole as they grew
 * (auto_explain, PgCostProbe, issue 16). Nothing is refused: an operator may vacuum on a schedule.
 */
@Component
public class AutovacuumCheck {

    private static final Logger log = LoggerFactory.getLogger(AutovacuumCheck.class);

    static final String WARNING = "PostgreSQL runs with autovacuum (or track_counts) off: the outbox's dead rows and stale planner"
            + " statistics slow delivery down as the journal grows; turn autovacuum on, or run VACUUM ANALYZE on a schedule";

    private final DataSource dataSource;

    public AutovacuumCheck(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    @EventListener(ApplicationReadyEvent.class)
    void warnIfOff() {
        String warning = warning(dataSource);
        if (warning != null) {
            log.warn(warning);
        }
    }

    /** The warning, or null: another database, autovacuum on, or the setting not readable now. */
    static String warning(DataSource dataSource) {
        try (Connection c = dataSource.getConnection()) {
            if (!c.getMetaData().getDatabaseProductName().toLowerCase().contains("postgres")) {
                return null;
            }
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                    "select current_setting('autovacuum') = 'on' and current_setting('track_counts') = 'on'")) {
                return rs.next() && !rs.getBoolean(1) ? WARNING : null;
            }
        } catch (SQLException e) { // the database's own health check reports an outage
            return null;
        }
    }
}
