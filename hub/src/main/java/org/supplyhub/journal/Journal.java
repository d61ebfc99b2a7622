package org.supplyhub.journal;

import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.support.TransactionTemplate;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The message journal. Each message is written with everything it produced (its FHIR resources
 * and one outbox row per destination) atomically, and the caller answers AA only after the commit.
 *
 * <p>Writes go through a group commit: messages that arrive while a transaction is in flight are
 * written together in the next one (one batch per table, one commit), which is what lets a
 * durable journal keep up with many MLLP connections. If a group fails, each of its messages is
 * retried alone, so one bad message (a duplicate racing in) never fails the others.
 */
@Repository
public class Journal {

    private static final Logger log = LoggerFactory.getLogger(Journal.class);

    private static final String INSERT_MESSAGE = """
            insert into message (interface_id, sender, control_id, dedup_key, message_type, hl7_version, status,
                                 received_at, caller, charset, raw, ack_code, ack, error, usage_json, line_count)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";
    private static final String INSERT_OUTPUT =
            "insert into message_output (message_id, line_no, resource_type, resource_id, resource_json) values (?, ?, ?, ?, ?)";
    private static final String INSERT_OUTBOX = "insert into outbox (message_id, destination, ordering_key, status,"
            + " attempts, created_at, next_attempt_at) values (?, ?, ?, 'PENDING', 0, ?, ?)";
    private static final int MAX_GROUP = 64;

    /** A message and what it produced, to be journaled in one transaction. */
    public record Entry(ReceivedMessage message, String usageJson, int lineCount, List<JournalOutput> outputs,
                        List<String> destinations, String orderingKey) { }

    private record Pending(Entry entry, CompletableFuture<Long> done) { }

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final List<Thread> writers = new ArrayList<>();
    private final long waitMillis;
    private volatile boolean running = true;

    public Journal(JdbcTemplate jdbc, TransactionTemplate tx,
                   @Value("${hub.journal.writers:2}") int writerCount,
                   @Value("${hub.journal.commit-timeout:30s}") java.time.Duration commitTimeout) {
        this.jdbc = jdbc;
        this.tx = tx;
        this.waitMillis = commitTimeout.toMillis();
        for (int i = 0; i < writerCount; i++) {
            Thread writer = new Thread(this::writeLoop, "journal-writer-" + i);
            writer.setDaemon(true);
            writer.start();
            writers.add(writer);
        }
    }

    /**
     * Journals a message with everything it produced; returns its id once committed.
     *
     * @throws DuplicateMessageException if the same sender + control id is already journaled
     * @throws org.springframework.dao.DataAccessException if it could not be stored
     */
    public long accept(Entry entry) {
        if (!running) {
            throw new DataAccessResourceFailureException("the journal is shutting down");
        }
        CompletableFuture<Long> done = new CompletableFuture<>();
        queue.add(new Pending(entry, done));
        try {
            return done.get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new DataAccessResourceFailureException("journal write failed", e.getCause());
        } catch (TimeoutException e) {
            throw new DataAccessResourceFailureException("journal commit did not finish in " + waitMillis + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DataAccessResourceFailureException("interrupted while journaling");
        }
    }

    /** Journals a message that produced nothing (ERROR or REJECTED). */
    public long record(ReceivedMessage m) {
        return accept(new Entry(m, null, 0, List.of(), List.of(), null));
    }

    /** The ACK originally answered to this sender + control id, for a resend. */
    public Optional<String> originalAck(String dedupKey) {
        List<String> acks = jdbc.queryForList("select ack from message where dedup_key = ?", String.class, dedupKey);
        return acks.stream().findFirst();
    }

    private void writeLoop() {
        List<Pending> group = new ArrayList<>(MAX_GROUP);
        while (running) {
            try {
                Pending first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                group.add(first);
                queue.drainTo(group, MAX_GROUP - 1);
                write(group);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                group.forEach(p -> p.done().completeExceptionally(e));
            } finally {
                group.clear();
            }
        }
    }

    private void write(List<Pending> group) {
        try {
            long[] ids = inTransaction(group.stream().map(Pending::entry).toList());
            for (int i = 0; i < group.size(); i++) {
                group.get(i).done().complete(ids[i]);
            }
        } catch (RuntimeException e) {
            if (group.size() == 1) {
                group.get(0).done().completeExceptionally(translate(e, group.get(0).entry()));
                return;
            }
            log.debug("Journal group of {} failed ({}); writing each alone", group.size(), e.getClass().getSimpleName());
            for (Pending p : group) {
                try {
                    p.done().complete(inTransaction(List.of(p.entry()))[0]);
                } catch (RuntimeException single) {
                    p.done().completeExceptionally(translate(single, p.entry()));
                }
            }
        }
    }

    /** A constraint failure on a message whose sender + control id is already journaled is a resend. */
    private RuntimeException translate(RuntimeException e, Entry entry) {
        String key = entry.message().dedupKey();
        if (e instanceof DataIntegrityViolationException && key != null && originalAck(key).isPresent()) {
            return new DuplicateMessageException(key);
        }
        return e;
    }

    private long[] inTransaction(List<Entry> entries) {
        return tx.execute(status -> jdbc.execute((ConnectionCallback<long[]>) con -> insert(con, entries)));
    }

    private static long[] insert(Connection con, List<Entry> entries) throws SQLException {
        long[] ids = new long[entries.size()];
        try (PreparedStatement ps = con.prepareStatement(INSERT_MESSAGE, new String[] {"id"})) {
            for (Entry e : entries) {
                bindMessage(ps, e);
                ps.addBatch();
            }
            ps.executeBatch();
            try (ResultSet keys = ps.getGeneratedKeys()) {
                for (int i = 0; i < ids.length; i++) {
                    if (!keys.next()) {
                        throw new SQLException("the database returned fewer message ids than rows inserted");
                    }
                    ids[i] = keys.getLong(1);
                }
            }
        }
        boolean anyOutputs = false;
        boolean anyOutbox = false;
        try (PreparedStatement outputs = con.prepareStatement(INSERT_OUTPUT);
             PreparedStatement outbox = con.prepareStatement(INSERT_OUTBOX)) {
            for (int i = 0; i < ids.length; i++) {
                Entry e = entries.get(i);
                for (JournalOutput o : e.outputs()) {
                    outputs.setLong(1, ids[i]);
                    outputs.setInt(2, o.lineNo());
                    outputs.setString(3, o.resourceType());
                    outputs.setString(4, o.resourceId());
                    outputs.setString(5, o.json());
                    outputs.addBatch();
                    anyOutputs = true;
                }
                Timestamp received = Timestamp.from(e.message().receivedAt());
                for (String destination : e.destinations()) {
                    outbox.setLong(1, ids[i]);
                    outbox.setString(2, destination);
                    outbox.setString(3, e.orderingKey());
                    outbox.setTimestamp(4, received);
                    outbox.setTimestamp(5, received);
                    outbox.addBatch();
                    anyOutbox = true;
                }
            }
            if (anyOutputs) {
                outputs.executeBatch();
            }
            if (anyOutbox) {
                outbox.executeBatch();
            }
        }
        // the ingest's audit row commits with the message, so neither exists without the other
        try (PreparedStatement audit = con.prepareStatement(AuditLog.INSERT)) {
            for (int i = 0; i < ids.length; i++) {
                ReceivedMessage m = entries.get(i).message();
                audit.setTimestamp(1, Timestamp.from(m.receivedAt()));
                audit.setString(2, truncate(m.caller() == null ? "unknown" : m.caller(), 300));
                audit.setString(3, "INGEST");
                audit.setString(4, m.interfaceId());
                audit.setString(5, "message " + ids[i]);
                audit.setString(6, m.ackCode());
                audit.setString(7, m.controlId() == null ? null : truncate("control id " + m.controlId(), 500));
                audit.addBatch();
            }
            audit.executeBatch();
        }
        return ids;
    }

    private static void bindMessage(PreparedStatement ps, Entry e) throws SQLException {
        ReceivedMessage m = e.message();
        ps.setString(1, m.interfaceId());
        ps.setString(2, m.sender());
        ps.setString(3, m.controlId());
        ps.setString(4, m.dedupKey());
        ps.setString(5, m.messageType());
        ps.setString(6, m.hl7Version());
        ps.setString(7, m.status().name());
        ps.setTimestamp(8, Timestamp.from(m.receivedAt()));
        ps.setString(9, m.caller());
        ps.setString(10, m.charset());
        ps.setBytes(11, m.raw());
        ps.setString(12, m.ackCode());
        ps.setString(13, m.ack());
        ps.setString(14, truncate(m.error(), 2000));
        ps.setString(15, e.usageJson());
        ps.setInt(16, e.lineCount());
    }

    /** At most {@code max} characters: what fits the journal's and the audit trail's columns. */
    static String truncate(String s, int max) {
        return s == null || s.length() <= max ? s : s.substring(0, max);
    }

    @PreDestroy
    void stop() {
        running = false;
        writers.forEach(Thread::interrupt);
        Pending p;
        while ((p = queue.poll()) != null) {
            p.done().completeExceptionally(new DataAccessResourceFailureException("the journal is shutting down"));
        }
    }
}
