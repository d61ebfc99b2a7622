package org.supplyhub.journal.crypto;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.supplyhub.journal.HmacSearchKeys;
import org.supplyhub.support.MigratedDatabase;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The journal's keyed hashes, now computed with a Mac kept per thread (issue 16), are the same values
 * as a Mac made for each hash: every search column already written keeps matching.
 */
class KeyedHashTest {

    @Test
    void keyedHashesEqualAFreshMacPerValueOnEveryThread() throws Exception {
        byte[] kek = new byte[32];
        new SecureRandom().nextBytes(kek);
        KeyRing ring = KeyRing.of(kek, List.of());
        try (MigratedDatabase db = MigratedDatabase.of("h2")) {
            JdbcTemplate jdbc = new JdbcTemplate(db.dataSource);
            JournalKeys keys = new JournalKeys(jdbc, ring, true, Clock.systemUTC());
            Map<String, Object> row = jdbc.queryForMap("select id, kek_id, wrapped from journal_key where purpose = 'SEARCH'");
            byte[] search = ring.unwrap((String) row.get("kek_id"), ((Number) row.get("id")).intValue(), "SEARCH",
                    (byte[]) row.get("wrapped"));
            HmacSearchKeys reference = new HmacSearchKeys(search);
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> runs = new java.util.ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int seed = t;
                    runs.add(pool.submit(() -> {
                        Random random = new Random(seed);
                        for (int i = 0; i < 2_000; i++) {
                            String value = i % 50 == 0 ? "  " : (i % 7 == 0 ? " " : "") + "MRN" + random.nextInt(100_000)
                                    + (i % 3 == 0 ? "é " : "");
                            assertThat(keys.of(value)).isEqualTo(reference.of(value));
                            String domain = List.of("lot", "serial", "content", "order").get(i % 4);
                            assertThat(keys.keyOf(domain, value)).isEqualTo(freshKeyOf(search, domain, value));
                        }
                        return null;
                    }));
                }
                for (Future<?> run : runs) {
                    run.get();
                }
            } finally {
                pool.shutdown();
            }
            assertThat(keys.of(null)).isNull();
            assertThat(keys.keyOf("lot", null)).isNull();
        }
    }

    /** What keyOf computed before: a Mac looked up and keyed for each value. */
    static String freshKeyOf(byte[] search, String domain, String value) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(search, "HmacSHA256"));
        mac.update(domain.getBytes(StandardCharsets.US_ASCII));
        mac.update((byte) 0);
        return HexFormat.of().formatHex(mac.doFinal(value.getBytes(StandardCharsets.UTF_8)));
    }
}
