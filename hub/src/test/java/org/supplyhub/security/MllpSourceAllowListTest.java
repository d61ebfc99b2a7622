package org.supplyhub.security;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.Await;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Plain MLLP with an allow-list: a sender outside {@code allowedSources} is cut off before a byte is
 * read and audited; one inside is answered. (All connections here come from 127.0.0.1.)
 */
@SpringBootTest
@DirtiesContext
class MllpSourceAllowListTest {

    static final int FENCED_PORT = TestInterfaces.freePort();
    static final int LOCAL_PORT = TestInterfaces.freePort();

    @Autowired
    JdbcTemplate jdbc;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        Path routes = Files.createTempDirectory("allow-list");
        Files.writeString(routes.resolve("allow.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-mllp-inbound
                    parameters:
                      - { name: interfaceId, value: fenced-or }
                      - { name: port, value: "%d" }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: allowedSources, value: "10.20.0.0/16, 192.168.7.12" }
                - templatedRoute:
                    routeTemplateRef: hl7-mllp-inbound
                    parameters:
                      - { name: interfaceId, value: local-or }
                      - { name: port, value: "%d" }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: allowedSources, value: "127.0.0.0/8" }
                """.formatted(FENCED_PORT, LOCAL_PORT));
        registry.add("hub.routes-dir", routes::toString);
        registry.add("hub.mappings-dir", () -> TestInterfaces.projectRoot().resolve("mappings").toString());
        registry.add("hub.delivery.enabled", () -> "false");
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
    }

    @Test
    void onlyListedSourcesAreAnswered() throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "ALLOW-" + System.nanoTime());
        try (Mllp local = new Mllp(LOCAL_PORT)) {
            assertThat(local.send(er7, StandardCharsets.UTF_8)).contains("MSA|AA");
        }
        String fencedEr7 = Samples.withControlId(er7, "FENCED-" + System.nanoTime());
        String reply;
        try (Mllp fenced = new Mllp(FENCED_PORT)) {
            reply = fenced.send(fencedEr7, StandardCharsets.UTF_8);
        } catch (IOException e) {
            reply = null;
        }
        assertThat(reply).isNull();
        assertThat(jdbc.queryForObject("select count(*) from message where control_id = ?", Integer.class,
                Samples.controlId(fencedEr7))).isZero();
        Await.until(() -> jdbc.queryForObject("select count(*) from audit_event where action = 'CONNECTION_REFUSED'",
                Integer.class) == 1);
        Map<String, Object> row = jdbc.queryForMap("select actor, interface_id, detail from audit_event"
                + " where action = 'CONNECTION_REFUSED'");
        assertThat(row.get("actor")).isEqualTo("anonymous@127.0.0.1");
        assertThat(row.get("interface_id")).isEqualTo("fenced-or");
        assertThat(row.get("detail").toString()).contains("allowedSources");
    }
}
