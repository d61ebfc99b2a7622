package org.supplyhub.journal;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.supplyhub.support.MigratedDatabase;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * V16 keeps in {@code ix_message_previous} only rows that supersede another, and in
 * {@code ix_message_status} only ERROR and REJECTED rows. The queries that need them must still be able
 * to read them, in the generic plan a prepared statement ends up with too: the reprocess count
 * ({@code previous_id = ?}, Journal and RetentionPurge) and a search for a rare status over a time range
 * (MessageQueries). Their answers must not change.
 */
class MessageIndexesPostgresTest {

    @Test
    void partialIndexesStillServeTheirQueries() throws Exception {
        try (MigratedDatabase db = MigratedDatabase.of("postgres"); Connection c = db.dataSource.getConnection()) {
            JdbcTemplate jdbc = new JdbcTemplate(db.dataSource);
            String insert = "insert into message (interface_id, sender, status, received_at, charset, raw, ack_code, ack,"
                    + " previous_id) values ('mercy-or', 'OR^MERCY', ?, now() - ? * interval '1 minute', 'UTF-8', ?, 'AA',"
                    + " 'MSA|AA', ?)";
            List<Object[]> rows = new ArrayList<>();
            for (int i = 0; i < 2000; i++) {
                rows.add(new Object[] {i % 100 == 0 ? "ERROR" : i % 150 == 1 ? "REJECTED" : "ACCEPTED", 2000 - i,
                        new byte[] {1}, null});
            }
            jdbc.batchUpdate(insert, rows);
            long error = jdbc.queryForObject("select min(id) from message where status = 'ERROR'", Long.class);
            jdbc.update(insert, "ACCEPTED", 0, new byte[] {1}, error);
            jdbc.execute("analyze message");

            assertThat(jdbc.queryForObject("select count(*) from message n where n.previous_id = ?", Long.class, error))
                    .isEqualTo(1);
            assertThat(jdbc.queryForList("select id from message where status = ? and received_at >= now() - interval"
                    + " '1010 minutes' order by id desc fetch first 50 rows only", Long.class, "ERROR")).hasSize(10);
            assertThat(jdbc.queryForList("select id from message where status = ? order by id desc fetch first 50 rows"
                    + " only", Long.class, "ACCEPTED")).hasSize(50);

            try (Statement s = c.createStatement()) {
                s.execute("set enable_seqscan = off");
                s.execute("set plan_cache_mode = force_generic_plan");
                s.execute("prepare reprocessed(bigint) as select count(*) from message n where n.previous_id = $1");
                assertThat(plan(s, "explain execute reprocessed(1)")).contains("ix_message_previous");
                s.execute("set plan_cache_mode = auto");
                assertThat(plan(s, "explain select id from message where status = 'REJECTED' and received_at >= now()"
                        + " - interval '1 day' order by id desc fetch first 50 rows only")).contains("ix_message_status");
            }
        }
    }

    private static String plan(Statement s, String explain) throws Exception {
        StringBuilder plan = new StringBuilder();
        try (ResultSet rs = s.executeQuery(explain)) {
            while (rs.next()) {
                plan.append(rs.getString(1)).append('\n');
            }
        }
        return plan.toString();
    }
}
