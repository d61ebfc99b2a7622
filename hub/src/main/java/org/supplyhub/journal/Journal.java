package org.supplyhub.journal;

import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.supplyhub.journal.crypto.Column;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.mapping.SupplyUsage;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The message journal. Each message is written with everything it produced (its canonical usage
 * and one outbox row per destination) atomically, and the caller answers AA only after the commit.
 * FHIR resources are not journaled: they are rendered from the usage when needed
 * ({@link org.supplyhub.mapping.FhirRenderer}); messages journaled before that keep their
 * {@code message_output} rows, which readers prefer.
 *
 * <p>Writes go through a group commit: messages that arrive while a transaction is in flight are
 * written together in the next one (one batch per table, one commit), which is what lets a
 * durable journal keep up with many MLLP connections. If a group fails on its content, each of its
 * messages is retried alone, so one bad message (a duplicate racing in) never fails the others.
 *
 * <p>Failures are typed, and carry the SQLState and exception class only — never driver text,
 * which may quote the values of the batch (patient data):
 * {@link DuplicateMessageException} (an ACCEPTED row holds the key), {@link UnstorableMessageException}
 * (the message's content was refused), {@link JournalUnavailableException} (nothing was committed),
 * {@link CommitOutcomeUnknownException} (the commit may or may not have happened).
 */
@Repository
public class Journal {

    private static final Logger log = LoggerFactory.getLogger(Journal.class);

    private static final String INSERT_MESSAGE = """
            insert into message (interface_id, sender, control_id, dedup_key, message_type, hl7_version, status,
                                 received_at, caller, charset, raw, ack_code, ack, error, usage_json, line_count,
                                 content_hash, previous_id, patient_key, account_key)
            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""";
    private static final String INSERT_OUTBOX = "insert into outbox (message_id, destination, ordering_key, status,"
            + " attempts, created_at, next_attempt_at) values (?, ?, ?, 'PENDING', 0, ?, ?)";
    private static final String FIND_BY_KEY = "select id, status, ack, content_hash from message where dedup_key = ?";
    private static final int MAX_GROUP = 64;
    /** A row whose key is taken over concurrently again and again is not a resend we can settle. */
    private static final int MAX_TAKEOVERS = 3;

    /** Widths of the journal's text columns (V1, V6): values are bounded to them before the insert. */
    public static final int MAX_SENDER = 200;
    public static final int MAX_CONTROL_ID = 200;
    public static final int MAX_ACK = 4000;
    static final int MAX_ORDERING_KEY = 200;
    static final int MAX_DEDUP_KEY = 500;

    /**
     * A message and what it produced, to be journaled in one transaction; {@code devices}: its device
     * index rows; {@code usage} (the mapped form of {@code usageJson}, null when nothing was mapped)
     * gives its implant safety flags.
     */
    public record Entry(ReceivedMessage message, String usageJson, int lineCount,
                        List<String> destinations, String orderingKey, List<DeviceUse> devices, SupplyUsage usage) {

        public Entry {
            devices = devices == null ? List.of() : List.copyOf(devices);
        }

        /** An entry without flags. */
        public Entry(ReceivedMessage message, String usageJson, int lineCount,
                     List<String> destinations, String orderingKey, List<DeviceUse> devices) {
            this(message, usageJson, lineCount, destinations, orderingKey, devices, null);
        }

        /** An entry without devices to index. */
        public Entry(ReceivedMessage message, String usageJson, int lineCount,
                     List<String> destinations, String orderingKey) {
            this(message, usageJson, lineCount, destinations, orderingKey, List.of());
        }

        /** The same entry as a new attempt superseding message {@code previous}. */
        Entry superseding(long previous) {
            return new Entry(message.superseding(previous), usageJson, lineCount, destinations, orderingKey,
                    devices, usage);
        }

        List<SupplyUsage.Flag> flags() {
            return usage == null ? List.of() : usage.flags();
        }
    }

    /** The row that holds a dedup key: what a resend is compared with and answered from. */
    public record Existing(long id, MessageStatus status, String ack, String contentHash) { }

    /**
     * A journaled message as needed to map it again. {@code purged}: retention replaced its content with a
     * tombstone ({@code raw} holds that tombstone, not a message).
     */
    public record Stored(long id, String interfaceId, String sender, String controlId, MessageStatus status,
                         String caller, String charset, byte[] raw, boolean live, boolean purged) { }

    /**
     * An entry as it is written: its PHI sealed under the journal's data key and its keyed hashes
     * computed, on the caller's thread before the transaction (the group commit's writer only binds).
     * {@code message} carries the keyed content hash; {@code contentHash} is the caller's plain one.
     */
    record Sealed(Entry entry, ReceivedMessage message, String contentHash, byte[] raw, String ack, String error,
                  String usageJson, String patientKey, String accountKey,
                  List<DeviceIndex.Row> devices, List<ImplantFlagRows.Row> flags) {

        Sealed superseding(long previous) {
            return new Sealed(entry.superseding(previous), message.superseding(previous), contentHash, raw, ack, error,
                    usageJson, patientKey, accountKey, devices, flags);
        }

        /** The holder as the caller compares it: its own plain hash when the content is the same. */
        Existing asSeenByCaller(Existing holder) {
            return holder.contentHash() != null && holder.contentHash().equals(message.contentHash())
                    ? new Existing(holder.id(), holder.status(), holder.ack(), contentHash) : holder;
        }
    }

    private record Pending(Sealed entry, CompletableFuture<Long> done) { }

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection con) throws SQLException;
    }

    private final JdbcTemplate jdbc;
    private final DataSource dataSource;
    private final JournalKeys keys;
    private final OpenedUsages opened;
    private final BlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final List<Thread> writers = new ArrayList<>();
    private final long waitMillis;
    private volatile boolean running = true;

    /** A journal whose accepted usages no delivery on this JVM takes from memory (tools, tests). */
    public Journal(JdbcTemplate jdbc, JournalKeys keys, int writerCount, java.time.Duration commitTimeout) {
        this(jdbc, keys, writerCount, commitTimeout, new OpenedUsages(false));
    }

    @org.springframework.beans.factory.annotation.Autowired
    public Journal(JdbcTemplate jdbc, JournalKeys keys,
                   @Value("${hub.journal.writers:2}") int writerCount,
                   @Value("${hub.journal.commit-timeout:30s}") java.time.Duration commitTimeout,
                   OpenedUsages opened) {
        this.jdbc = jdbc;
        this.keys = keys;
        this.opened = opened;
        this.dataSource = jdbc.getDataSource();
        this.waitMillis = commitTimeout.toMillis();
        for (int i = 0; i < writerCount; i++) {
            Thread writer = new Thread(this::writeLoop, "journal-writer-" + i);
            writer.setDaemon(true);
            writer.start();
            writers.add(writer);
        }
    }

    /**
     * Journals a message with everything it produced; returns its id once committed. A message
     * whose key is held by an ERROR row supersedes that row (a resend of a message that failed).
     *
     * @throws DuplicateMessageException if the same interface + sender + control id is ACCEPTED already
     * @throws UnstorableMessageException if the database refused the message's content
     * @throws CommitOutcomeUnknownException if it may or may not have been stored
     * @throws JournalUnavailableException if it was not stored
     */
    public long accept(Entry entry) {
        if (!running) {
            throw new JournalUnavailableException("the journal is shutting down");
        }
        Sealed sealed = seal(entry);
        CompletableFuture<Long> done = new CompletableFuture<>();
        queue.add(new Pending(sealed, done));
        try {
            return done.get(waitMillis, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new JournalUnavailableException("journal write failed: " + e.getCause().getClass().getSimpleName());
        } catch (TimeoutException e) {
            // still queued or being committed: it may yet be stored
            throw new CommitOutcomeUnknownException("journal commit did not finish in " + waitMillis + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CommitOutcomeUnknownException("interrupted while journaling");
        }
    }

    /** Journals a message that produced nothing (ERROR or REJECTED). */
    public long record(ReceivedMessage m) {
        return accept(new Entry(m, null, 0, List.of(), null));
    }

    /** The row that holds this dedup key, if any. Only asked on a key conflict, never per message. */
    public Optional<Existing> holder(String dedupKey) {
        return jdbc.query(FIND_BY_KEY, (rs, i) -> new Existing(rs.getLong(1), MessageStatus.valueOf(rs.getString(2)),
                keys.openText(Column.MESSAGE_ACK, rs.getString(3)), rs.getString(4)), dedupKey).stream().findFirst();
    }

    /** A journaled message, for reprocessing. {@code live}: it still holds its key (nothing superseded it). */
    public Optional<Stored> find(long id) {
        return jdbc.query("select id, interface_id, sender, control_id, status, caller, charset, raw, dedup_key,"
                        + " (select count(*) from message n where n.previous_id = m.id), purged_at from message m where id = ?",
                (rs, i) -> new Stored(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        MessageStatus.valueOf(rs.getString(5)), rs.getString(6), rs.getString(7),
                        keys.open(Column.MESSAGE_RAW, rs.getBytes(8)),
                        rs.getString(9) != null || rs.getInt(10) == 0, rs.getTimestamp(11) != null), id).stream().findFirst();
    }

    /**
     * Journals {@code entry} as a new revision of message {@code previousId}, which must still be
     * {@code expected} and hold its key; the revision takes the key over. An ACCEPTED message is only
     * revised while none of its deliveries has ever been sent and no later message of its account
     * waits behind it: its outbox rows become SUPERSEDED in the same transaction, so destinations are
     * owed the revision only, and in order.
     *
     * @throws ReprocessConflictException if the message changed, or something of it went out
     */
    public long revise(long previousId, MessageStatus expected, Entry entry) {
        Sealed revision = seal(entry).superseding(previousId);
        return transaction(con -> {
            try (PreparedStatement release = con.prepareStatement(
                    "update message set dedup_key = null where id = ? and status = ? and dedup_key is not null")) {
                release.setLong(1, previousId);
                release.setString(2, expected.name());
                if (release.executeUpdate() != 1) {
                    throw new ReprocessConflictException("message " + previousId + " is no longer " + expected
                            + " or has been superseded");
                }
            }
            if (expected == MessageStatus.ACCEPTED) {
                Timestamp now = Timestamp.from(Instant.now());
                int total;
                try (PreparedStatement count = con.prepareStatement("select count(*) from outbox where message_id = ?")) {
                    count.setLong(1, previousId);
                    try (ResultSet rs = count.executeQuery()) {
                        rs.next();
                        total = rs.getInt(1);
                    }
                }
                // the revision's rows carry new ids, so new idempotency keys (HTTP key, DFT MSH-10):
                // a row that was ever sent may have been applied (a lost ACK, a timeout), and its
                // receiver could not tell the revision from a new charge
                try (PreparedStatement supersede = con.prepareStatement("update outbox set status = 'SUPERSEDED',"
                        + " lease_until = null where message_id = ? and status = 'PENDING' and attempts = 0"
                        + " and (lease_until is null or lease_until < ?)")) {
                    supersede.setLong(1, previousId);
                    supersede.setTimestamp(2, now);
                    if (supersede.executeUpdate() != total) {
                        throw new ReprocessConflictException("message " + previousId + " has deliveries that were"
                                + " sent (delivered, being sent, retried or dead): a receiver may have applied them,"
                                + " so it is not reprocessed; replay its dead deliveries instead");
                    }
                }
                // the revision's rows go to the back of their accounts' queues: refuse while a later
                // message of the same account waits at the same destination (a credit before its charge)
                try (PreparedStatement later = con.prepareStatement("select count(*) from outbox o join outbox n"
                        + " on n.destination = o.destination and n.ordering_key = o.ordering_key and n.id > o.id"
                        + " where o.message_id = ? and n.status = 'PENDING'")) {
                    later.setLong(1, previousId);
                    try (ResultSet rs = later.executeQuery()) {
                        rs.next();
                        if (rs.getInt(1) > 0) {
                            throw new ReprocessConflictException("message " + previousId + " has later messages of"
                                    + " the same account waiting behind it; reprocessing it would send them first");
                        }
                    }
                }
            }
            ImplantFlagRows.supersede(con, previousId);
            // the device index holds live revisions only: the superseded one's devices leave with it
            try (PreparedStatement devices = con.prepareStatement("delete from device_use where message_id = ?")) {
                devices.setLong(1, previousId);
                devices.executeUpdate();
            }
            return insert(con, List.of(revision))[0];
        });
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
            } catch (Error e) {
                // never leave the group's senders waiting for the commit timeout; it may have come after the commit
                log.error("Journal writer: {} while writing a group of {}", e.getClass().getName(), group.size());
                group.forEach(p -> p.done().completeExceptionally(new CommitOutcomeUnknownException(e.getClass().getSimpleName())));
            } finally {
                group.clear();
            }
        }
    }

    private void write(List<Pending> group) {
        try {
            long[] ids = transaction(con -> insert(con, group.stream().map(Pending::entry).toList()));
            for (int i = 0; i < group.size(); i++) {
                group.get(i).done().complete(ids[i]);
            }
            for (int i = 0; i < group.size(); i++) {
                committed(group.get(i).entry(), ids[i]);
            }
        } catch (JournalUnavailableException | CommitOutcomeUnknownException outage) {
            // the database, not a message: writing each alone would only fail (or hang) again
            log.warn("Journal group of {} not written: {}", group.size(), outage.getMessage());
            group.forEach(p -> p.done().completeExceptionally(outage));
        } catch (RuntimeException content) {
            if (group.size() > 1) {
                log.debug("Journal group of {} refused ({}); writing each alone", group.size(), content.getMessage());
            }
            for (Pending p : group) {
                try {
                    long id = writeAlone(p.entry(), group.size() == 1 ? content : null);
                    p.done().complete(id);
                    committed(p.entry(), id);
                } catch (RuntimeException single) {
                    p.done().completeExceptionally(single);
                }
            }
        }
    }

    /**
     * A committed entry's usage, in the clear and parsed, for this node's delivery ({@link OpenedUsages}),
     * after its caller has its answer. Only a usage stored exactly as mapped: {@link #bounded} replaces a
     * NUL (which JSON never holds raw), and UTF-8 (the sealed form, the driver's) a lone surrogate. Never
     * throws: the entry is committed, and a delivery that finds nothing here opens the stored value.
     */
    private void committed(Sealed entry, long id) {
        String usageJson = entry.entry().usageJson();
        if (!opened.keeps() || entry.entry().usage() == null || usageJson == null || !storedAsIs(usageJson)) {
            return;
        }
        try {
            opened.journaled(id, entry.usageJson(), entry.entry().usage(), usageJson);
        } catch (RuntimeException e) {
            log.debug("Journal: usage of message {} not kept opened: {}", id, e.getClass().getName());
        }
    }

    /** Whether the text survives the journal unchanged: no NUL, no surrogate without its other half. */
    static boolean storedAsIs(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\0') {
                return false;
            }
            if (Character.isSurrogate(c)) {
                if (!Character.isHighSurrogate(c) || i + 1 == text.length() || !Character.isLowSurrogate(text.charAt(i + 1))) {
                    return false;
                }
                i++;
            }
        }
        return true;
    }

    /**
     * One message on its own. A key conflict is resolved here, where it is the rare case: an ACCEPTED
     * holder makes it a resend ({@link DuplicateMessageException}); an ERROR holder is superseded —
     * its key cleared and the new attempt written linked to it — so a corrected resend is processed.
     */
    private long writeAlone(Sealed entry, RuntimeException alreadyFailed) {
        RuntimeException failure = alreadyFailed;
        for (int attempt = 0; attempt <= MAX_TAKEOVERS; attempt++) {
            if (failure == null) {
                try {
                    return transaction(con -> insert(con, List.of(entry)))[0];
                } catch (DataIntegrityViolationException e) {
                    failure = e;
                }
            }
            String key = entry.message().dedupKey();
            if (!(failure instanceof DataIntegrityViolationException) || key == null) {
                throw failure instanceof DataIntegrityViolationException
                        ? new UnstorableMessageException(failure.getMessage()) : failure;
            }
            failure = null;
            Optional<Existing> holder = holder(key);
            if (holder.isEmpty()) {
                continue; // the holder was superseded meanwhile: try again
            }
            Existing existing = holder.get();
            if (existing.status() == MessageStatus.ACCEPTED) {
                throw new DuplicateMessageException(entry.asSeenByCaller(existing));
            }
            Sealed next = entry.superseding(existing.id());
            try {
                Long id = transaction(con -> {
                    try (PreparedStatement release = con.prepareStatement(
                            "update message set dedup_key = null where id = ? and dedup_key = ?")) {
                        release.setLong(1, existing.id());
                        release.setString(2, bounded(key, MAX_DEDUP_KEY));
                        if (release.executeUpdate() != 1) {
                            return null; // another attempt took it over first
                        }
                    }
                    return insert(con, List.of(next))[0];
                });
                if (id != null) {
                    log.debug("Journal: message {} supersedes {} ({})", id, existing.id(), existing.status());
                    return id;
                }
            } catch (DataIntegrityViolationException raced) {
                // another attempt took the key in between: look again
            }
        }
        throw new UnstorableMessageException("the message's key stayed contended; not stored");
    }

    /**
     * One transaction on a connection of our own, so that we know whether a failure came before the
     * commit (nothing stored) or during it (outcome unknown), and so that no framework logs the
     * driver's exception (whose text can quote the batch's values).
     */
    private <T> T transaction(Work<T> work) {
        Connection con;
        try {
            con = dataSource.getConnection();
        } catch (SQLException e) {
            throw new JournalUnavailableException("no database connection (" + describe(e) + ")");
        }
        boolean committing = false;
        try {
            con.setAutoCommit(false);
            T result = work.run(con);
            committing = true;
            con.commit();
            return result;
        } catch (SQLException e) {
            rollback(con);
            if (committing) {
                throw new CommitOutcomeUnknownException("commit failed (" + describe(e) + "); outcome unknown");
            }
            throw classify(e);
        } catch (RuntimeException e) {
            rollback(con);
            throw e;
        } finally {
            try {
                con.setAutoCommit(true);
            } catch (SQLException ignored) {
                // a broken connection; the pool evicts it
            }
            try {
                con.close();
            } catch (SQLException ignored) {
                // as above
            }
        }
    }

    private static void rollback(Connection con) {
        try {
            con.rollback();
        } catch (SQLException ignored) {
            // the connection is gone; nothing was committed on it
        }
    }

    /**
     * Integrity (SQLState 23) and data (22) errors are the message's; everything else is the
     * database's. Class "08" (connection) and the rest mean this transaction did not commit.
     */
    private static RuntimeException classify(SQLException e) {
        String state = sqlState(e);
        if (state != null && state.startsWith("23")) {
            return new DataIntegrityViolationException("constraint violated (" + describe(e) + ")");
        }
        if (state != null && state.startsWith("22")) {
            return new UnstorableMessageException("value refused (" + describe(e) + ")");
        }
        return new JournalUnavailableException("journal write failed (" + describe(e) + ")");
    }

    /** Class and SQLState: what may be logged of a driver exception. */
    static String describe(SQLException e) {
        return e.getClass().getSimpleName() + ", SQLState " + sqlState(e);
    }

    private static String sqlState(SQLException e) {
        for (SQLException s = e; s != null; s = s.getNextException()) {
            if (s.getSQLState() != null) {
                return s.getSQLState();
            }
            if (s instanceof BatchUpdateException && s.getCause() instanceof SQLException c && c.getSQLState() != null) {
                return c.getSQLState();
            }
        }
        return null;
    }

    /**
     * Seals an entry's PHI and computes its keyed hashes: the patient and account keys come from the
     * mapped usage, or for a message that was not mapped from its PID-3-1 / PID-18-1 as far as they read.
     */
    Sealed seal(Entry e) {
        ReceivedMessage m = e.message();
        String patient = value(e.usage(), SupplyUsage::patient);
        String account = value(e.usage(), SupplyUsage::account);
        if (e.usage() == null && m.raw() != null) {
            PidKeys pid = PidKeys.read(decode(m.raw(), m.charset()));
            patient = pid.patient();
            account = pid.account();
        }
        String patientKey = keys.of(patient);
        // the account number is PHI: outbox rows are ordered by its keyed hash (equal accounts, equal keys)
        Entry keyed = e.orderingKey() == null ? e : new Entry(m, e.usageJson(), e.lineCount(),
                e.destinations(), keys.keyOf("order", e.orderingKey()), e.devices(), e.usage());
        return new Sealed(keyed, m.withContentHash(m.contentHash() == null ? null : keys.keyOf("content", m.contentHash())),
                m.contentHash(), keys.seal(Column.MESSAGE_RAW, m.raw()),
                keys.sealText(Column.MESSAGE_ACK, bounded(m.ack(), MAX_ACK)),
                keys.sealText(Column.MESSAGE_ERROR, bounded(m.error(), 2000)),
                keys.sealText(Column.MESSAGE_USAGE, bounded(e.usageJson(), Integer.MAX_VALUE)), patientKey,
                keys.of(account), DeviceIndex.seal(e, keys, patientKey), ImplantFlagRows.seal(e, keys));
    }

    private static String decode(byte[] raw, String charset) {
        try {
            return new String(raw, java.nio.charset.Charset.forName(charset));
        } catch (RuntimeException unknownCharset) {
            return new String(raw, StandardCharsets.ISO_8859_1);
        }
    }

    private long[] insert(Connection con, List<Sealed> entries) throws SQLException {
        long[] ids = new long[entries.size()];
        try (PreparedStatement ps = con.prepareStatement(INSERT_MESSAGE, new String[] {"id"})) {
            for (int i = 0; i < ids.length; i++) {
                Sealed e = entries.get(i);
                bindMessage(ps, e);
                ps.setString(19, e.patientKey());
                ps.setString(20, e.accountKey());
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
        boolean anyOutbox = false;
        try (PreparedStatement outbox = con.prepareStatement(INSERT_OUTBOX)) {
            for (int i = 0; i < ids.length; i++) {
                Entry e = entries.get(i).entry();
                Timestamp received = Timestamp.from(e.message().receivedAt());
                for (String destination : e.destinations()) {
                    outbox.setLong(1, ids[i]);
                    outbox.setString(2, destination);
                    outbox.setString(3, orderingKey(e.orderingKey()));
                    outbox.setTimestamp(4, received);
                    outbox.setTimestamp(5, received);
                    outbox.addBatch();
                    anyOutbox = true;
                }
            }
            if (anyOutbox) {
                outbox.executeBatch();
            }
        }
        DeviceIndex.insert(con, entries, ids);
        ImplantFlagRows.insert(con, ids, entries);
        // the ingest's audit row commits with the message, so neither exists without the other
        try (PreparedStatement audit = con.prepareStatement(AuditLog.INSERT)) {
            for (int i = 0; i < ids.length; i++) {
                ReceivedMessage m = entries.get(i).message();
                AuditLog.bind(audit, m.receivedAt(), AuditEvent.of(m.caller(), "INGEST").interfaceId(m.interfaceId())
                        .message(ids[i]).patientKey(entries.get(i).patientKey()).outcome(m.ackCode())
                        .detail(m.controlId() == null ? null : "control id " + m.controlId()
                                + (m.previousId() == null ? "" : ", supersedes message " + m.previousId())));
                audit.addBatch();
            }
            audit.executeBatch();
        }
        return ids;
    }

    /** Every text value is bounded to its column and free of NUL, so the message's content cannot fail the insert. */
    private static void bindMessage(PreparedStatement ps, Sealed s) throws SQLException {
        Entry e = s.entry();
        ReceivedMessage m = s.message();
        ps.setString(1, bounded(m.interfaceId(), 64));
        ps.setString(2, bounded(m.sender(), MAX_SENDER));
        ps.setString(3, bounded(m.controlId(), MAX_CONTROL_ID));
        ps.setString(4, bounded(m.dedupKey(), MAX_DEDUP_KEY));
        ps.setString(5, bounded(m.messageType(), 32));
        ps.setString(6, bounded(m.hl7Version(), 16));
        ps.setString(7, m.status().name());
        ps.setTimestamp(8, Timestamp.from(m.receivedAt()));
        ps.setString(9, bounded(m.caller(), 200));
        ps.setString(10, bounded(m.charset(), 32));
        ps.setBytes(11, s.raw());
        ps.setString(12, bounded(m.ackCode(), 2));
        ps.setString(13, s.ack());
        ps.setString(14, s.error());
        ps.setString(15, s.usageJson());
        if (e.usageJson() == null) {
            ps.setNull(16, Types.INTEGER); // nothing was mapped: no line count
        } else {
            ps.setInt(16, e.lineCount());
        }
        ps.setString(17, bounded(m.contentHash(), 64));
        if (m.previousId() == null) {
            ps.setNull(18, Types.BIGINT);
        } else {
            ps.setLong(18, m.previousId());
        }
    }

    /** The value of a patient or account reference of a mapped message; null when nothing was mapped. */
    private static String value(SupplyUsage usage, java.util.function.Function<SupplyUsage, SupplyUsage.Ref> ref) {
        SupplyUsage.Ref r = usage == null ? null : ref.apply(usage);
        return r == null ? null : r.value();
    }

    /** An ordering key, hashed when it does not fit its column (same account, same key); the journal's are keyed hashes already. */
    static String orderingKey(String key) {
        if (key == null || key.length() <= MAX_ORDERING_KEY && key.indexOf('\0') < 0) {
            return key;
        }
        return "sha256:" + sha256(key);
    }

    public static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JRE", e);
        }
    }

    /**
     * At most {@code max} characters and no NUL: what fits the journal's and the audit trail's
     * columns (PostgreSQL text cannot hold 0x00; raw bytes stay exact in bytea).
     */
    static String bounded(String s, int max) {
        if (s == null) {
            return null;
        }
        String clean = s.indexOf('\0') < 0 ? s : s.replace('\0', '\uFFFD');
        return clean.length() <= max ? clean : clean.substring(0, max);
    }

    @PreDestroy
    void stop() {
        running = false;
        writers.forEach(Thread::interrupt);
        Pending p;
        while ((p = queue.poll()) != null) {
            p.done().completeExceptionally(new JournalUnavailableException("the journal is shutting down"));
        }
    }
}
