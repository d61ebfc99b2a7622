package org.supplyhub.retention;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

/**
 * The retention purge: replaces the content of messages past their interface's retention period with a
 * tombstone, in small transactions.
 *
 * <p>A message is purged only when nothing can need its content again:
 * <ul>
 *   <li>ACCEPTED, every outbox row DELIVERED (or SUPERSEDED by a reprocess, whose revision carries the
 *       deliveries), no implant flag OPEN (a release renders the held charge from the usage). A message
 *       with no destination owes nothing.</li>
 *   <li>REJECTED: never accepted, owes nothing; kept for forensics for the period, then purged.</li>
 *   <li>ERROR superseded by a later attempt (a corrected resend, a reprocess): the attempt carries the
 *       content. A live ERROR is never purged: it waits for a person.</li>
 * </ul>
 * Pending, retried and DEAD deliveries keep the message whole. What stays: the row's metadata, its
 * content hash (a resend is still recognised and answered with the stored ACK, which for an ACCEPTED
 * message holds MSH and MSA only), its search keys, outbox rows and attempts, the device index (implant
 * traceability is kept for the device's life) and implant flags, and the audit trail.
 *
 * <p>Each batch locks its messages ({@code FOR UPDATE SKIP LOCKED} on PostgreSQL, so nodes running the
 * purge at once share the work) and touches only old rows, so intake, which inserts new ones, never waits.
 */
@Service
public class RetentionPurge {

    private static final Logger log = LoggerFactory.getLogger(RetentionPurge.class);

    /** What {@code message.raw} holds once purged (the column is not null). */
    public static final String TOMBSTONE = "PURGED";
    static final String ACTOR = "system:retention";

    private static final String ELIGIBLE = " " + """
            and (
              (m.status = 'ACCEPTED'
               and not exists (select 1 from outbox o where o.message_id = m.id
                               and o.status not in ('DELIVERED', 'SUPERSEDED'))
               and not exists (select 1 from implant_flag f where f.message_id = m.id and f.status = 'OPEN'))
              or m.status = 'REJECTED'
              or (m.status = 'ERROR' and exists (select 1 from message n where n.previous_id = m.id)))""";

    /** What one run did: messages purged per interface. */
    public record Run(Instant at, Map<String, Integer> purged) {
        public int total() {
            return purged.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final AuditLog audit;
    private final MeterRegistry meters;
    private final Clock clock;
    private final RetentionProperties properties;
    private final RunningConfig config;
    private final boolean postgres;
    private final Map<String, Counter> counters = new ConcurrentHashMap<>();
    /** One run at a time per node (a scheduled run and one asked for); other nodes share through the locks. */
    private final ReentrantLock running = new ReentrantLock();
    private final Set<String> warnedUnknown = ConcurrentHashMap.newKeySet();

    public RetentionPurge(JdbcTemplate jdbc, TransactionTemplate tx, AuditLog audit, MeterRegistry meters, Clock clock,
                          RetentionProperties properties, RunningConfig config, DataSource dataSource) throws SQLException {
        this.jdbc = jdbc;
        this.tx = tx;
        this.audit = audit;
        this.meters = meters;
        this.clock = clock;
        this.properties = properties;
        this.config = config;
        properties.policy(); // a bad period stops the start, naming the setting
        try (Connection c = dataSource.getConnection()) {
            this.postgres = c.getMetaData().getDatabaseProductName().toLowerCase().contains("postgres");
        }
    }

    /** Purges everything due now, batch by batch; returns what it purged (empty if a run is under way here). */
    public Run run() {
        Instant now = clock.instant();
        if (!running.tryLock()) {
            return new Run(now, Map.of());
        }
        try {
            warnAboutUnknownInterfaces();
            Map<String, Integer> purged = new LinkedHashMap<>();
            for (RetentionPolicy.Group group : properties.policy().groups(now)) {
                long after = 0;
                while (true) {
                    Batch batch = purgeBatch(group, after, now);
                    count(batch.purged()); // after the commit: a rolled-back batch counts nothing
                    batch.purged().forEach((iface, n) -> purged.merge(iface, n, Integer::sum));
                    if (batch.lastId() == null) {
                        break;
                    }
                    after = batch.lastId();
                }
            }
            if (!purged.isEmpty()) {
                log.info("Retention: purged the content of {} messages ({})", purged.values().stream()
                        .mapToInt(Integer::intValue).sum(), purged);
            }
            return new Run(now, Collections.unmodifiableMap(purged));
        } finally {
            running.unlock();
        }
    }

    /** What one batch did; {@code lastId} null when the group has nothing more to look at. */
    private record Batch(Map<String, Integer> purged, Long lastId) { }

    private record Candidate(long id, String interfaceId) { }

    private Batch purgeBatch(RetentionPolicy.Group group, long after, Instant now) {
        return tx.execute(status -> {
            List<Object> args = new ArrayList<>(List.of(after, Timestamp.from(group.cutoff())));
            StringBuilder sql = new StringBuilder("select m.id, m.interface_id from message m"
                    + " where m.purged_at is null and m.id > ? and m.received_at < ?");
            if (group.interfaceId() != null) {
                sql.append(" and m.interface_id = ?");
                args.add(group.interfaceId());
            } else if (!group.except().isEmpty()) {
                sql.append(" and m.interface_id not in (")
                        .append(group.except().stream().map(x -> "?").collect(Collectors.joining(", "))).append(')');
                args.addAll(group.except());
            }
            sql.append(ELIGIBLE).append(" order by m.id limit ").append(properties.batchSize())
                    .append(postgres ? " for update of m skip locked" : " for update");
            List<Candidate> found = jdbc.query(sql.toString(),
                    (rs, i) -> new Candidate(rs.getLong(1), rs.getString(2)), args.toArray());
            if (found.isEmpty()) {
                return new Batch(Map.of(), null);
            }
            Timestamp at = Timestamp.from(now);
            byte[] tombstone = TOMBSTONE.getBytes(StandardCharsets.US_ASCII);
            String reason = group.reason();
            // one statement each for the whole batch (an id list, portable to H2)
            String in = " in (" + found.stream().map(c -> "?").collect(Collectors.joining(", ")) + ")";
            List<Object> ids = found.stream().<Object>map(Candidate::id).toList();
            jdbc.update("delete from message_output where message_id" + in, ids.toArray());
            List<Object> update = new ArrayList<>(List.of(tombstone, TOMBSTONE, at, reason));
            update.addAll(ids);
            // an ACCEPTED message's ACK (MSH, MSA) stays: a late resend is still answered with it
            jdbc.update("update message set raw = ?, usage_json = null, error = null,"
                    + " ack = case when status = 'ACCEPTED' then ack else ? end,"
                    + " purged_at = ?, purge_reason = ? where id" + in, update.toArray());
            Map<String, List<Candidate>> byInterface = found.stream()
                    .collect(Collectors.groupingBy(Candidate::interfaceId, java.util.TreeMap::new, Collectors.toList()));
            Map<String, Integer> purged = new LinkedHashMap<>();
            byInterface.forEach((iface, rows) -> {
                // counts and the id range, never content; in the batch's transaction: no purge stands unaudited
                audit.recordInTransaction(AuditEvent.of(ACTOR, "RETENTION_PURGE").interfaceId(iface)
                        .target("messages " + rows.get(0).id() + ".." + rows.get(rows.size() - 1).id())
                        .outcome("OK").detail(rows.size() + " messages' content purged; " + reason));
                purged.put(iface, rows.size());
            });
            // a short batch was the group's last (rows another node holds are its to purge)
            return new Batch(purged, found.size() < properties.batchSize() ? null : found.get(found.size() - 1).id());
        });
    }

    /** {@code hub_retention_purged_total{interface}}. */
    private void count(Map<String, Integer> purged) {
        purged.forEach((iface, n) -> counters.computeIfAbsent(iface, i -> Counter.builder("hub.retention.purged")
                .description("Messages whose content the retention purge replaced by a tombstone")
                .tag("interface", i).register(meters)).increment(n));
    }

    private void warnAboutUnknownInterfaces() {
        Set<String> known = config.all().stream().map(InterfaceDefinition::id).collect(Collectors.toSet());
        for (String id : new TreeSet<>(properties.interfaces().keySet())) {
            if (!known.contains(id) && warnedUnknown.add(id)) {
                log.warn("hub.retention.interfaces.{} names no interface of the running configuration;"
                        + " its messages (if any) are kept {}", id, RetentionPolicy.words(properties.policy().periodOf(id)));
            }
        }
    }
}
