package org.supplyhub.journal;

import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;
import org.supplyhub.support.MigratedDatabase;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Refused requests fold into one row per source, action and minute, with a count; memory stays bounded. */
class RefusalFoldingTest {

    static final Instant T0 = Instant.parse("2026-11-29T12:00:10Z");

    @Test
    void aThousandDenialsFromOneSourceBecomeAHandfulOfRowsWithTheRightTotal() {
        try (MigratedDatabase db = MigratedDatabase.of("h2")) {
            JdbcTemplate jdbc = new JdbcTemplate(db.dataSource);
            AtomicReference<Instant> now = new AtomicReference<>(T0);
            AuditLog audit = new AuditLog(jdbc, clock(now), 100, 5, false);
            // 1,000 denials over 150 s: three minutes touched
            for (int i = 0; i < 1000; i++) {
                now.set(T0.plusMillis(i * 150L));
                audit.denied(AuditLog.anonymous("203.0.113.9"), "GET /api/messages/" + i, "401", "no token");
                if (i % 100 == 0) {
                    audit.flushRefusals(false);
                }
            }
            // another source and another action are their own rows
            audit.denied(AuditLog.anonymous("203.0.113.10"), "GET /api/audit", "401", "no token");
            audit.record(AuditLog.anonymous("203.0.113.9"), "TLS_REFUSED", "mercy-or", "mllp port 2575", "REFUSED", "x");
            now.set(T0.plusSeconds(300));
            audit.flushRefusals(false);

            List<Map<String, Object>> rows = jdbc.queryForList("select action, source, actor, event_count, detail"
                    + " from audit_event where actor = 'anonymous@203.0.113.9' and action = 'ACCESS_DENIED' order by id");
            // the first five of each of the three minutes, then one folded row per minute
            assertThat(rows).hasSize(18);
            assertThat(rows.stream().mapToInt(r -> ((Number) r.get("event_count")).intValue()).sum()).isEqualTo(1000);
            assertThat(rows.subList(0, 5)).allSatisfy(r -> assertThat(r.get("event_count")).isEqualTo(1));
            assertThat(rows.stream().filter(r -> ((Number) r.get("event_count")).intValue() > 1).findFirst().orElseThrow()
                    .get("detail").toString()).matches("\\d+ more refused 12:00–12:01 UTC; last: no token");
            assertThat(jdbc.queryForObject("select count(*) from audit_event where actor = 'anonymous@203.0.113.10'",
                    Integer.class)).isOne();
            assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'TLS_REFUSED'",
                    Integer.class)).isOne();
            // other actions are never folded
            for (int i = 0; i < 5; i++) {
                audit.record("client:x", "MESSAGE_READ", null, "message 1", "OK", null);
            }
            assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'MESSAGE_READ'",
                    Integer.class)).isEqualTo(5);
            audit.close();
        }
    }

    @Test
    void aScannerFromManySourcesStaysBoundedInMemoryAndRows() {
        RefusalFolding folding = new RefusalFolding(100, 1);
        List<AuditEvent> written = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            AuditEvent e = AuditEvent.of("anonymous@10.1." + (i / 250) + "." + (i % 250), "ACCESS_DENIED")
                    .source("10.1." + (i / 250) + "." + (i % 250)).outcome("401").detail("no token");
            AuditEvent now = folding.admit(e, T0.plusMillis(i));
            if (now != null) {
                written.add(now);
            }
            assertThat(folding.tracked()).isLessThanOrEqualTo(101);
        }
        written.addAll(folding.drain(null));
        assertThat(written).hasSizeLessThanOrEqualTo(103);
        assertThat(written.stream().mapToInt(AuditEvent::count).sum()).isEqualTo(20_000);
        assertThat(written).anySatisfy(e -> assertThat(e.source()).isEqualTo(RefusalFolding.MANY_SOURCES));
    }

    private static Clock clock(AtomicReference<Instant> now) {
        return new Clock() {
            @Override
            public java.time.ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(java.time.ZoneId zone) {
                return this;
            }

            @Override
            public Instant instant() {
                return now.get();
            }
        };
    }
}
