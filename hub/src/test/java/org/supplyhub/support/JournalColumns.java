package org.supplyhub.support;

import org.springframework.jdbc.core.JdbcTemplate;
import org.supplyhub.journal.crypto.Column;
import org.supplyhub.journal.crypto.JournalKeys;

import java.util.List;

/**
 * Reads the journal's encrypted columns in a test, opened with the running context's keys: a test that
 * checks what was stored (not what an API shows) selects the column with SQL and gets the clear value,
 * exactly as the hub's own readers do. Each query selects the one encrypted column as its first column.
 */
public final class JournalColumns {

    private final JdbcTemplate jdbc;
    private final JournalKeys keys;

    public JournalColumns(JdbcTemplate jdbc, JournalKeys keys) {
        this.jdbc = jdbc;
        this.keys = keys;
    }

    /** The clear text of the one row's text column the query selects (null stays null). */
    public String text(Column column, String sql, Object... args) {
        return keys.openText(column, jdbc.queryForObject(sql, String.class, args));
    }

    /** The clear texts of every row's text column the query selects. */
    public List<String> texts(Column column, String sql, Object... args) {
        return jdbc.queryForList(sql, String.class, args).stream().map(v -> keys.openText(column, v)).toList();
    }

    /** The clear bytes of the one row's binary column (the raw message) the query selects. */
    public byte[] bytes(Column column, String sql, Object... args) {
        return keys.open(column, jdbc.queryForObject(sql, byte[].class, args));
    }

    /** A stored text value opened, for a test that selects several columns in one row. */
    public String open(Column column, Object stored) {
        return keys.openText(column, (String) stored);
    }

    /** A stored binary value opened. */
    public byte[] open(Column column, byte[] stored) {
        return keys.open(column, stored);
    }
}
