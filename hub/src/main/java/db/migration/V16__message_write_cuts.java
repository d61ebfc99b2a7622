package db.migration;

import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Cheaper message inserts on PostgreSQL (issue 16): every message wrote an entry into each of the
 * message table's nine indexes, two of them for rows no query looks for there. Now it writes seven.
 * <ul>
 * <li>{@code ix_message_previous} keeps only rows that supersede another: its queries
 * ({@code n.previous_id = m.id}) imply {@code previous_id is not null}, also in a generic plan, and
 * all first attempts (nearly every message) have none.</li>
 * <li>{@code ix_message_status} keeps only ERROR and REJECTED rows: a search for ACCEPTED, the bulk of
 * the journal, is served by the primary key or {@code ix_message_received}, and a search for the rare
 * statuses names its status as a literal (the admin search does), which implies the predicate.</li>
 * </ul>
 * Not done: storage EXTERNAL for {@code raw} and {@code usage_json}. Sealed values do not compress, but
 * with the journal's encryption off they are plain ER7 and JSON, which do, and the saving was a few
 * µs a message.
 * On a populated database the new indexes are built before the old ones are dropped, in the
 * migration's transaction (the message table takes no writes while they build: upgrade in a quiet
 * moment). H2 (embedded,
 * one node) keeps its indexes: it has no partial indexes.
 */
public class V16__message_write_cuts extends BaseJavaMigration {

    @Override
    public void migrate(Context context) throws SQLException {
        Connection c = context.getConnection();
        if (!c.getMetaData().getDatabaseProductName().toLowerCase().contains("postgres")) {
            return;
        }
        try (Statement s = c.createStatement()) {
            s.execute("create index ix_message_previous_v16 on message (previous_id) where previous_id is not null");
            s.execute("drop index if exists ix_message_previous");
            s.execute("alter index ix_message_previous_v16 rename to ix_message_previous");
            s.execute("create index ix_message_status_v16 on message (status, received_at) where status <> 'ACCEPTED'");
            s.execute("drop index if exists ix_message_status");
            s.execute("alter index ix_message_status_v16 rename to ix_message_status");
        }
    }
}
