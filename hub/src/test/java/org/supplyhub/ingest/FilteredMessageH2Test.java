package org.supplyhub.ingest;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.Connection;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.admin.MessageQueries;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A message whose every line the profile's classify skips is filtered (as Mirth engineers expect):
 * AA, journaled ACCEPTED, and nothing to deliver. Real MLLP, real H2, a copy of the shipped
 * configuration whose Mercy profile skips lines with FT1-3 = FILTERED.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class FilteredMessageH2Test {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final Path MAPPINGS = filteringCopy();

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    MessageQueries queries;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("hub.routes-dir", INTERFACES.routesDir::toString);
        registry.add("hub.mappings-dir", MAPPINGS::toString);
        TestDatabases.h2().forEach((k, v) -> registry.add(k, () -> v));
    }

    private static Path filteringCopy() {
        try {
            Path dir = Files.createTempDirectory("hub-mappings");
            try (Stream<Path> files = Files.list(INTERFACES.mappingsDir)) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    Files.copy(f, dir.resolve(f.getFileName()));
                }
            }
            Path mercy = dir.resolve("mercy-or.yaml");
            String text = Files.readString(mercy);
            assertThat(text).contains("  group: FINANCIAL\n");
            Files.writeString(mercy, text.replace("  group: FINANCIAL\n",
                    "  group: FINANCIAL\n  classify:\n    - { when: { FT1-3: FILTERED }, as: skip }\n"));
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String send(String er7) throws Exception {
        try (HapiContext hapi = new DefaultHapiContext()) {
            hapi.setValidationContext(ValidationContextFactory.noValidation());
            Connection connection = hapi.newClient("127.0.0.1", INTERFACES.ports.get("mercy-or"), false);
            try {
                return hapi.getPipeParser().encode(connection.getInitiator()
                        .sendAndReceive(hapi.getPipeParser().parse(er7)));
            } finally {
                connection.close();
            }
        }
    }

    private int count(String sql, Object... args) {
        Integer n = jdbc.queryForObject(sql, Integer.class, args);
        return n == null ? 0 : n;
    }

    @Test
    void aMessageWhoseEveryLineIsSkippedIsAcceptedJournaledAndDeliversNothing() throws Exception {
        // every FT1 of the sample gets FT1-3 = FILTERED (the sample leaves FT1-3 empty)
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "FILTER-1")
                .replaceAll("(\rFT1\\|\\d+\\|[^|]*\\|)\\|", "$1FILTERED|");
        assertThat(er7).contains("|FILTERED|");

        String ack = send(er7);

        assertThat(ack).contains("MSA|AA|FILTER-1");
        Map<String, Object> row = jdbc.queryForMap("select * from message where control_id = ?", "FILTER-1");
        assertThat(row.get("status")).isEqualTo("ACCEPTED");
        long id = ((Number) row.get("id")).longValue();
        assertThat(count("select count(*) from outbox where message_id = ?", id)).isZero();
        assertThat(queries.outputs(id)).as("no line, no FHIR resource").isEmpty();

        // a message with one line left is delivered as usual
        String one = Samples.withControlId(Samples.read(Samples.MERCY), "FILTER-2")
                .replaceFirst("(\rFT1\\|1\\|[^|]*\\|)\\|", "$1FILTERED|");
        assertThat(send(one)).contains("MSA|AA|FILTER-2");
        assertThat(count("select count(*) from outbox o join message m on m.id = o.message_id where m.control_id = ?",
                "FILTER-2")).isPositive();
    }
}
