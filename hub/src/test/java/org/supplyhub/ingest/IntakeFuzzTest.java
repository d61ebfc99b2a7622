package org.supplyhub.ingest;

import org.supplyhub.config.RunningConfig;
import org.supplyhub.config.InterfaceDefinition;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Parse + map + journal with hostile MSH fields (wild lengths, NUL and other control characters,
 * delimiters, non-BMP text) on PostgreSQL, which refuses 0x00 in text: while the database is up,
 * nothing may be answered "207 resend later", and every answer that is not a resend is journaled.
 */
@SpringBootTest
@DirtiesContext
class IntakeFuzzTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final String[] ALPHABET = {"A", "z", "7", "\0", "\u0001", "\u001f", "\u007f", "^", "&", "~", "\\", "|",
            "é", "\uD83D\uDE00", " ", "\t", "'", "\""};

    @Autowired
    IntakeService intake;
    @Autowired
    RunningConfig catalog;
    @Autowired
    JdbcTemplate jdbc;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    static String wild(Random random) {
        int length = switch (random.nextInt(4)) {
            case 0 -> random.nextInt(8);
            case 1 -> 150 + random.nextInt(100);
            case 2 -> 190 + random.nextInt(400);
            default -> random.nextInt(5000);
        };
        StringBuilder b = new StringBuilder(length);
        boolean plain = random.nextInt(3) == 0;
        for (int i = 0; i < length; i++) {
            b.append(plain ? ALPHABET[random.nextInt(3)] : ALPHABET[random.nextInt(ALPHABET.length)]);
        }
        return b.toString();
    }

    @Test
    void hostileHeadersAreAnsweredAndJournaledNeverResendLater() {
        Random random = new Random(9_05L);
        String template = Samples.read(Samples.MERCY);
        InterfaceDefinition mercy = catalog.get("mercy-or");
        List<String> failures = new ArrayList<>();
        int[] codes = new int[3];
        for (int i = 0; i < 400; i++) {
            String message = Samples.withControlId(template, "FZ" + i);
            int fields = 1 + random.nextInt(3);
            for (int f = 0; f < fields; f++) {
                int which = new int[] {2, 3, 4, 5, 9, 9, 9, 11, 17}[random.nextInt(9)]; // index in the MSH split
                String value = which == 9 ? (random.nextBoolean() ? "FZ" + i : "") + wild(random) : wild(random);
                message = Samples.withField(message, "MSH", which, value);
            }
            if (random.nextInt(4) == 0) {
                message = message.replace("VALDEZ^ROSA", "VAL\0DEZ^" + wild(random));
            }
            int before = count();
            IntakeResult result = intake.receive(mercy, message.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8, "fuzz");
            codes[result.ackCode().equals("AA") ? 0 : result.ackCode().equals("AE") ? 1 : 2]++;
            if (result.ack().contains("|207^") || result.ack().contains("resend it later")) {
                failures.add(i + ": answered resend-later: " + result.ackCode());
            } else if (!result.duplicate() && (result.status() == null || count() != before + 1)) {
                failures.add(i + ": not journaled (" + result.ackCode() + ")");
            }
        }
        System.out.printf("intake fuzz: %d AA, %d AE, %d AR%n", codes[0], codes[1], codes[2]);
        assertThat(failures).isEmpty();
        assertThat(codes[2]).as("most are refused").isGreaterThan(100);
    }

    int count() {
        Integer n = jdbc.queryForObject("select count(*) from message", Integer.class);
        return n == null ? 0 : n;
    }
}
