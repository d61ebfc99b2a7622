package org.supplyhub.journal.crypto;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.dao.DataAccessException;
import org.springframework.dao.DuplicateKeyException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import org.supplyhub.journal.SearchKeys;

import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The journal's keys: encrypts and decrypts its PHI columns, and computes the keyed hashes it is
 * searched by ({@link SearchKeys}).
 *
 * <p>Data keys (AES-256) are made per node per UTC day (and at each start): a node never has to agree
 * with another on "today's key" (each inserts its own row), a key encrypts at most a day of one node's
 * values (well inside GCM's 2^32 random-nonce budget), and a leaked data key exposes one node-day.
 * Each is stored in {@code journal_key} (V13) wrapped by the active KEK, with the KEK's id, and cached
 * unwrapped in memory once used. The search key (HMAC-SHA256 of MRNs, accounts, lots, serials and the
 * dedup content hash) is one random key per journal, stored the same way, so rotating the KEK re-wraps
 * it without changing a single search column.
 *
 * <p>At start-up every KEK id in {@code journal_key} must be in the ring, and the search key and the
 * newest data key must unwrap: a wrong or missing key stops the hub with a message naming the property
 * before anything is written under it.
 */
@Component
public class JournalKeys implements SearchKeys {

    private static final Logger log = LoggerFactory.getLogger(JournalKeys.class);
    public static final String ENABLED_PROPERTY = "hub.journal.encryption.enabled";
    static final String DATA = "DATA";
    static final String SEARCH = "SEARCH";
    /** Re-key well before GCM's random-nonce limit even on a node that never sees midnight. */
    private static final long MAX_USES = 1L << 30;

    private record Current(LocalDate day, int id, SecretKey key, java.util.concurrent.atomic.AtomicLong uses) { }

    /** What {@code rotate-key} did. */
    public record Rotation(String activeKek, int rewrapped, int alreadyCurrent) { }

    private final JdbcTemplate jdbc;
    private final KeyRing ring;
    private final boolean enabled;
    private final Clock clock;
    private final SecureRandom random = new SecureRandom();
    private final Map<Integer, SecretKey> dataKeys = new ConcurrentHashMap<>();
    private final SecretKeySpec searchMac;
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newSearchMac);
    private volatile Current current;

    @org.springframework.beans.factory.annotation.Autowired
    public JournalKeys(JdbcTemplate jdbc,
                       @Value("${" + KeyRing.KEY_PROPERTY + ":}") String keySpec,
                       @Value("${" + KeyRing.OLD_KEYS_PROPERTY + ":}") String oldKeys,
                       @Value("${" + ENABLED_PROPERTY + ":true}") boolean enabled,
                       @Value("${spring.datasource.url:}") String databaseUrl) {
        this(jdbc, ring(keySpec, oldKeys, databaseUrl), enabled, Clock.systemUTC());
    }

    public JournalKeys(JdbcTemplate jdbc, KeyRing ring, boolean enabled, Clock clock) {
        this.jdbc = jdbc;
        this.ring = ring;
        this.enabled = enabled;
        this.clock = clock;
        List<String> unknown;
        try {
            unknown = jdbc.queryForList("select distinct kek_id from journal_key", String.class).stream()
                    .filter(id -> !ring.holds(id)).sorted().toList();
        } catch (DataAccessException e) {
            throw new JournalKeyException("the journal_key table cannot be read (" + e.getClass().getSimpleName()
                    + "): start the hub once to migrate the database (V13)", e);
        }
        if (!unknown.isEmpty()) {
            throw new JournalKeyException(KeyRing.KEY_PROPERTY + " (KEK " + ring.active().id() + ", from "
                    + ring.active().source() + ") is not the key this journal's data keys are wrapped with (KEK "
                    + String.join(", ", unknown) + "). Give the key they were written with, or keep it in "
                    + KeyRing.OLD_KEYS_PROPERTY + " until rotate-key has re-wrapped them. Nothing was stored.");
        }
        byte[] search = searchKey();
        this.searchMac = new SecretKeySpec(search, "HmacSHA256");
        // the newest data key must open too (its tag proves the KEK, not just its id)
        jdbc.query("select id from journal_key where purpose = ? order by created_at desc, id fetch first 1 rows only",
                (rs, i) -> rs.getInt(1), DATA).forEach(this::dataKey);
    }

    /** Whether new values are encrypted ({@value #ENABLED_PROPERTY}); reading always decrypts what was. */
    public boolean enabled() {
        return enabled;
    }

    public String activeKekId() {
        return ring.active().id();
    }

    // ---------------------------------------------------------------- values

    /** The value to store: sealed under today's data key (or as given when encryption is off); null stays null. */
    public byte[] seal(Column column, byte[] clear) {
        if (clear == null || !enabled) {
            return clear;
        }
        Current c = today();
        return Aead.seal(c.key(), c.id(), column.aad(), clear);
    }

    public String sealText(Column column, String clear) {
        if (clear == null || !enabled) {
            return clear;
        }
        return Aead.TEXT_PREFIX + Base64.getEncoder().encodeToString(seal(column, clear.getBytes(StandardCharsets.UTF_8)));
    }

    /** The clear value of a stored one; a value stored in clear (before V13, or with encryption off) passes. */
    public byte[] open(Column column, byte[] stored) {
        if (!Aead.isSealed(stored)) {
            return stored;
        }
        return Aead.open(dataKey(Aead.keyId(stored)), column.aad(), stored);
    }

    public String openText(Column column, String stored) {
        if (!Aead.isSealed(stored)) {
            return stored;
        }
        byte[] sealed = Base64.getDecoder().decode(stored.substring(Aead.TEXT_PREFIX.length()));
        return new String(open(column, sealed), StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- keyed hashes

    /** The patient / account search key of V10 (HMAC-SHA256 of the trimmed value). */
    @Override
    public String of(String value) {
        if (value == null || value.isBlank()) {
            return null; // as HmacSearchKeys, whose keys these are (the same key, the same bytes)
        }
        return HexFormat.of().formatHex(searchMac().doFinal(value.trim().getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * A keyed hash in its own domain ({@code lot}, {@code serial}, {@code content}): equal values give equal
     * keys within a domain, and a lot never matches an MRN that happens to be spelt the same.
     */
    public String keyOf(String domain, String value) {
        if (value == null) {
            return null;
        }
        Mac mac = searchMac();
        mac.update(domain.getBytes(StandardCharsets.US_ASCII));
        mac.update((byte) 0);
        return HexFormat.of().formatHex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * This thread's HMAC under the search key, reset. A message takes six or more keyed hashes (patient,
     * account, order, content, lot, serial); a Mac looked up and keyed for each was a measurable share of
     * sealing (issue 16), and a Mac is not thread-safe, so each thread keeps its own.
     */
    private Mac searchMac() {
        Mac mac = macs.get();
        mac.reset();
        return mac;
    }

    private Mac newSearchMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(searchMac);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
        }
    }

    // ---------------------------------------------------------------- rotation

    /**
     * Re-wraps every data key and the search key under the active KEK. Idempotent (keys already under
     * it are counted, not touched), and safe beside running nodes: a row is replaced only if it is still
     * wrapped by the KEK it was read with. Values are not re-encrypted: their data keys stay the same.
     */
    public Rotation rotate() {
        String active = ring.active().id();
        int rewrapped = 0;
        int current = 0;
        List<Map<String, Object>> rows = jdbc.queryForList("select id, purpose, kek_id, wrapped from journal_key order by id");
        for (Map<String, Object> row : rows) {
            int id = ((Number) row.get("id")).intValue();
            String purpose = (String) row.get("purpose");
            String kek = (String) row.get("kek_id");
            if (active.equals(kek)) {
                current++;
                continue;
            }
            byte[] clear = ring.unwrap(kek, id, purpose, (byte[]) row.get("wrapped"));
            rewrapped += jdbc.update("update journal_key set kek_id = ?, wrapped = ? where id = ? and kek_id = ?",
                    active, ring.wrap(id, purpose, clear), id, kek);
            java.util.Arrays.fill(clear, (byte) 0);
        }
        return new Rotation(active, rewrapped, current);
    }

    // ---------------------------------------------------------------- keys

    private Current today() {
        LocalDate day = LocalDate.now(clock.withZone(ZoneOffset.UTC));
        Current c = current;
        if (c != null && c.day().equals(day) && c.uses().incrementAndGet() < MAX_USES) {
            return c;
        }
        synchronized (this) {
            c = current;
            if (c == null || !c.day().equals(day) || c.uses().get() >= MAX_USES) {
                c = newDataKey(day);
                current = c;
            }
            return c;
        }
    }

    private Current newDataKey(LocalDate day) {
        byte[] key = new byte[32];
        random.nextBytes(key);
        for (int attempt = 0; ; attempt++) {
            int id = 1 + random.nextInt(Integer.MAX_VALUE - 1);
            try {
                jdbc.update("insert into journal_key (id, purpose, kek_id, wrapped, created_at) values (?, ?, ?, ?, ?)",
                        id, DATA, ring.active().id(), ring.wrap(id, DATA, key), Timestamp.from(Instant.now(clock)));
            } catch (DuplicateKeyException taken) {
                if (attempt < 5) {
                    continue; // another key drew the same id
                }
                throw taken;
            } catch (DataAccessException down) {
                // the database is gone: the message is not stored, and says so like any journal outage
                throw new org.supplyhub.journal.JournalUnavailableException("no data key could be stored ("
                        + down.getClass().getSimpleName() + ")");
            }
            SecretKey secret = new SecretKeySpec(key, "AES");
            dataKeys.put(id, secret);
            log.info("Journal: new data key {} (KEK {})", id, ring.active().id());
            return new Current(day, id, secret, new java.util.concurrent.atomic.AtomicLong());
        }
    }

    private SecretKey dataKey(int id) {
        SecretKey cached = dataKeys.get(id);
        if (cached != null) {
            return cached;
        }
        return dataKeys.computeIfAbsent(id, k -> {
            List<Map<String, Object>> rows = jdbc.queryForList(
                    "select kek_id, wrapped from journal_key where id = ? and purpose = ?", k, DATA);
            if (rows.isEmpty()) {
                throw new JournalKeyException("data key " + k + " is not in journal_key: the value cannot be read");
            }
            return new SecretKeySpec(ring.unwrap((String) rows.get(0).get("kek_id"), k, DATA,
                    (byte[]) rows.get(0).get("wrapped")), "AES");
        });
    }

    /** The journal's one search key: read, or made by the first node to start (a unique slot settles races). */
    private byte[] searchKey() {
        for (int attempt = 0; attempt < 3; attempt++) {
            List<Map<String, Object>> rows = jdbc.queryForList(
                    "select id, kek_id, wrapped from journal_key where purpose = ?", SEARCH);
            if (!rows.isEmpty()) {
                Map<String, Object> row = rows.get(0);
                return ring.unwrap((String) row.get("kek_id"), ((Number) row.get("id")).intValue(), SEARCH,
                        (byte[]) row.get("wrapped"));
            }
            byte[] key = new byte[32];
            random.nextBytes(key);
            int id = 1 + random.nextInt(Integer.MAX_VALUE - 1);
            try {
                jdbc.update("insert into journal_key (id, purpose, singleton, kek_id, wrapped, created_at)"
                                + " values (?, ?, ?, ?, ?, ?)", id, SEARCH, SEARCH, ring.active().id(),
                        ring.wrap(id, SEARCH, key), Timestamp.from(Instant.now(clock)));
                return key;
            } catch (DuplicateKeyException raced) {
                // another node made it first: read theirs
            }
        }
        throw new JournalKeyException("the journal's search key could not be read or made");
    }

    // ---------------------------------------------------------------- the key-encryption key

    /**
     * The ring the properties give; without {@value KeyRing#KEY_PROPERTY}, a key generated once into
     * {@code journal.kek} beside the H2 database (./data by default), owner-only, and said so in the log.
     * An in-memory database (tests) gets a key that lives as long as it does.
     */
    static KeyRing ring(String keySpec, String oldKeys, String databaseUrl) {
        if (keySpec != null && !keySpec.isBlank()) {
            return KeyRing.parse(keySpec, oldKeys, System::getenv);
        }
        if (databaseUrl != null && databaseUrl.startsWith("jdbc:h2:mem:")) {
            byte[] key = new byte[32];
            new SecureRandom().nextBytes(key);
            return KeyRing.of(key, List.of());
        }
        if (!isH2File(databaseUrl)) {
            // a shared database (PostgreSQL): a key made here would be this node's alone, and the next
            // node would find data keys it cannot unwrap
            throw new JournalKeyException(KeyRing.KEY_PROPERTY + " is not set. A key file is generated only for"
                    + " the default H2 file journal; with " + databaseKind(databaseUrl) + " every node must be given"
                    + " the same key-encryption key (" + KeyRing.KEY_PROPERTY + ": file:/run/secrets/journal-kek or"
                    + " env:NAME; HUB_JOURNAL_ENCRYPTION_KEY in the environment). Nothing was stored.");
        }
        Path file = dataDirectory(databaseUrl).resolve("journal.kek");
        try {
            OwnerOnlyFiles.directory(file.toAbsolutePath().getParent());
            if (!Files.exists(file)) {
                byte[] key = new byte[32];
                new SecureRandom().nextBytes(key);
                if (OwnerOnlyFiles.createNew(file, (Base64.getEncoder().encodeToString(key) + "\n")
                        .getBytes(StandardCharsets.US_ASCII))) {
                    log.warn("Journal: no {} set; generated a key-encryption key in {} (owner-only). Production must"
                            + " supply its own ({}: file:/run/secrets/journal-kek or env:NAME) and keep a copy apart"
                            + " from the database: without it the journal cannot be read", KeyRing.KEY_PROPERTY,
                            file.toAbsolutePath(), KeyRing.KEY_PROPERTY);
                }
            }
            OwnerOnlyFiles.file(file);
        } catch (IOException e) {
            throw new JournalKeyException("no " + KeyRing.KEY_PROPERTY + " set, and the default key " + file
                    + " cannot be created (" + e.getClass().getSimpleName() + "); set " + KeyRing.KEY_PROPERTY, e);
        }
        return KeyRing.parse("file:" + file, oldKeys, System::getenv);
    }

    /** Whether the journal is an H2 file database: the zero-set-up default run, the one place keys are made. */
    public static boolean isH2File(String databaseUrl) {
        return databaseUrl != null && (databaseUrl.startsWith("jdbc:h2:file:") || databaseUrl.startsWith("jdbc:h2:./")
                || databaseUrl.startsWith("jdbc:h2:/") || databaseUrl.startsWith("jdbc:h2:~"));
    }

    /** Whether the journal is an in-memory H2 database (tests): its keys live as long as it does. */
    public static boolean isH2Memory(String databaseUrl) {
        return databaseUrl != null && databaseUrl.startsWith("jdbc:h2:mem:");
    }

    /** "a PostgreSQL database" and the like, for messages (never the URL: it may carry a password). */
    public static String databaseKind(String databaseUrl) {
        if (databaseUrl == null || databaseUrl.isBlank()) {
            return "no spring.datasource.url";
        }
        String[] parts = databaseUrl.split(":");
        return parts.length > 1 ? "a " + parts[1] + " database" : "this database";
    }

    /**
     * The hub's data folder, the one place local files go (generated keys, exported checkpoints, file
     * outputs): the folder of an H2 file database ({@code jdbc:h2:file:./data/hub} → ./data), else ./data.
     */
    public static Path dataDirectory(String databaseUrl) {
        if (isH2File(databaseUrl)) {
            String path = databaseUrl.substring(databaseUrl.startsWith("jdbc:h2:file:") ? 13 : 8);
            int options = path.indexOf(';');
            path = options < 0 ? path : path.substring(0, options);
            if (path.startsWith("~")) {
                path = System.getProperty("user.home") + path.substring(1);
            }
            Path parent = Path.of(path).toAbsolutePath().getParent();
            return parent == null ? Path.of("data") : parent;
        }
        return Path.of("data");
    }
}
