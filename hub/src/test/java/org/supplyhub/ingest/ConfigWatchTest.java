package org.supplyhub.ingest;

import org.supplyhub.support.JournalColumns;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.config.ConfigFiles;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.support.Await;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The file watcher (hub.config.watch): an edit under mappings/ reloads by itself, audited as file-watch. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "hub.config.watch=true")
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS)
class ConfigWatchTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static final Path MAPPINGS = AbstractLiveReloadTest.copyOfMappings();

    @Autowired
    RunningConfig running;

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    JournalKeys keys;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        registry.add("hub.routes-dir", INTERFACES.routesDir::toString);
        registry.add("hub.mappings-dir", MAPPINGS::toString);
        TestDatabases.h2().forEach((k, v) -> registry.add(k, () -> v));
    }

    @Test
    void anEditedProfileIsReloadedByItselfAndAudited() throws Exception {
        Path profile = MAPPINGS.resolve("mercy-or.yaml");
        String text = Files.readString(profile);
        Files.writeString(profile, text.replace(AbstractLiveReloadTest.LOCATION_RULE,
                AbstractLiveReloadTest.LOCATION_RULE.replace("\"-\"", "\"/\"")));
        String hash = ConfigFiles.sha256(Files.readAllBytes(profile));

        Await.until(() -> hash.equals(running.current().files().get("mappings/mercy-or.yaml")));

        try (Mllp mllp = new Mllp(INTERFACES.ports.get("mercy-or"))) {
            String ack = mllp.send(Samples.withControlId(Samples.read(Samples.MERCY), "CW-1"), StandardCharsets.UTF_8);
            assertThat(AbstractLiveReloadTest.ackCode(ack)).isEqualTo("AA");
        }
        assertThat(new JournalColumns(jdbc, keys).text(Column.MESSAGE_USAGE, "select usage_json from message where control_id = 'CW-1'"))
                .contains("OR/03/A");
        assertThat(jdbc.queryForObject("select actor from audit_event where action = 'CONFIG_RELOAD' and outcome = 'APPLIED'"
                + " order by id desc fetch first 1 rows only", String.class)).isEqualTo(ConfigReloader.FILE_WATCH);

        // a file under mappings/tests/ is not configuration: no reload
        int reloads = jdbc.queryForObject("select count(*) from audit_event where action = 'CONFIG_RELOAD'", Integer.class);
        Files.createDirectories(MAPPINGS.resolve("tests/mercy-or"));
        Files.writeString(MAPPINGS.resolve("tests/mercy-or/x.hl7"), "MSH|");
        Thread.sleep(2 * ConfigWatcher.DEBOUNCE_MILLIS + 500);
        assertThat(jdbc.queryForObject("select count(*) from audit_event where action = 'CONFIG_RELOAD'", Integer.class))
                .isEqualTo(reloads);
    }
}
