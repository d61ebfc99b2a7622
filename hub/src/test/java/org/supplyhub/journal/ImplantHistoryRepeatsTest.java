package org.supplyhub.journal;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.KeyRing;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.safety.ImplantHistory.PriorImplant;
import org.supplyhub.support.MigratedDatabase;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The implant history lists a serial's earlier uses, but the same implantation reported again and
 * again (same patient, identifier system and service time) only twice (issue 16): the checks tell uses
 * apart by patient and time, and a serial reported thousands of times stays cheap to check.
 */
class ImplantHistoryRepeatsTest {

    static final String KNEE = "00889024123458";
    static final OffsetDateTime DAY = OffsetDateTime.of(2026, 11, 1, 8, 0, 0, 0, ZoneOffset.UTC);

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void repeatsOfOneImplantationAreListedTwiceAndEveryOtherUseOnce(String kind) {
        byte[] kek = new byte[32];
        new SecureRandom().nextBytes(kek);
        try (MigratedDatabase db = MigratedDatabase.of(kind)) {
            JdbcTemplate jdbc = new JdbcTemplate(db.dataSource);
            JournalKeys keys = new JournalKeys(jdbc, KeyRing.of(kek, List.of()), true, Clock.systemUTC());
            Journal journal = new Journal(jdbc, keys, 1, Duration.ofSeconds(30));
            DeviceIndex index = new DeviceIndex(jdbc, keys);
            try {
                List<Long> sameUse = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    sameUse.add(journal.accept(entry("MRN1", "urn:mrn", DAY)));
                }
                long later = journal.accept(entry("MRN1", "urn:mrn", DAY.plusDays(1)));
                long otherPatient = journal.accept(entry("MRN2", "urn:mrn", DAY));
                long otherSystem = journal.accept(entry("MRN1", "urn:other", DAY));
                long laterAgain = journal.accept(entry("MRN1", "urn:mrn", DAY.plusDays(1)));
                long laterThird = journal.accept(entry("MRN1", "urn:mrn", DAY.plusDays(1)));

                List<PriorImplant> prior = index.implantsOf(KNEE, "SN1");
                // oldest first (service time, then journal order); each implantation at most twice
                assertThat(prior).extracting(PriorImplant::messageId).containsExactly(sameUse.get(0), sameUse.get(1),
                        otherPatient, otherSystem, later, laterAgain);
                assertThat(prior).extracting(PriorImplant::patientValue)
                        .containsExactly("MRN1", "MRN1", "MRN2", "MRN1", "MRN1", "MRN1");
                assertThat(laterThird).isGreaterThan(laterAgain);
            } finally {
                journal.stop();
            }
        }
    }

    static Journal.Entry entry(String patient, String system, OffsetDateTime usedAt) {
        ReceivedMessage m = ReceivedMessage.received("mercy-or", Instant.now(), "test", "UTF-8",
                        "MSH|^~\\&|T|T|H|H|1||DFT^P03|x|P|2.5.1".getBytes(StandardCharsets.UTF_8))
                .header("T^T", "C" + UUID.randomUUID(), "DFT^P03", "2.5.1").contentHash("h")
                .answered(MessageStatus.ACCEPTED, "AA", "MSA|AA", null);
        DeviceUse use = new DeviceUse(1, 1, SupplyUsage.Kind.CHARGE, KNEE, "LOT1", "SN1", null, LocalDate.of(2030, 1, 1),
                null, system, patient, null, usedAt);
        return new Journal.Entry(m, "{}", 1, List.of(), null, List.of(use));
    }
}
