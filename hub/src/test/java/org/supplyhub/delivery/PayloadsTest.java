package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import ca.uhn.hl7v2.model.v251.message.DFT_P03;
import ca.uhn.hl7v2.util.Terser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.springframework.http.converter.json.Jackson2ObjectMapperBuilder;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.mapping.ProfileLoader;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.UsageMapper;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** What billing and inventory get for the samples, rendered from the journaled usage (issue 9 item 14). */
class PayloadsTest {

    static final Path ROOT = TestInterfaces.projectRoot();
    static final Hl7Support HL7 = new Hl7Support();
    /** Built like Spring Boot's (java.time as ISO text). */
    static final ObjectMapper JSON = Jackson2ObjectMapperBuilder.json()
            .featuresToDisable(com.fasterxml.jackson.databind.SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).build();
    static final UsageMapper MERCY = new ProfileLoader(ROOT.resolve("mappings")).load("mercy-or", "mercy-or.yaml");
    static final InterfaceCatalog CATALOG = InterfaceCatalog.load(ROOT.resolve("routes"), ROOT.resolve("mappings"));

    final Payloads payloads = new Payloads(HL7, JSON);

    /** Mapped, then through the journal's JSON as delivery reads it. */
    static SupplyUsage journaled(String er7) throws Exception {
        SupplyUsage usage = MERCY.map(HL7.parse(er7), "ORMGR^MERCY_OR", Samples.controlId(er7), "DFT^P03");
        return JSON.readValue(JSON.writeValueAsString(usage), SupplyUsage.class);
    }

    static String withFt1(String er7, int field, String value) {
        String[] segments = er7.split("\r", -1);
        for (int i = 0; i < segments.length; i++) {
            if (segments[i].startsWith("FT1|")) {
                String[] f = segments[i].split("\\|", -1);
                f[field] = value;
                segments[i] = String.join("|", f);
            }
        }
        return String.join("\r", segments);
    }

    @Test
    void theBillingDftNamesItsReceiverAndKeepsThePatientIdentifier() throws Exception {
        SupplyUsage usage = journaled(Samples.read(Samples.MERCY));
        Connector.Payload p = payloads.render(CATALOG.destination("mercy-billing"), 7, 3, usage, java.util.List.of());
        Terser t = new Terser(HL7.parse(new String(p.body(), StandardCharsets.UTF_8)));
        assertThat(t.get("/MSH-5")).isEqualTo("PATACCT");
        assertThat(t.get("/MSH-6")).isEqualTo("MERCY");
        assertThat(t.get("/PID-3-1")).isEqualTo("MRN448812");
        assertThat(t.get("/PID-3-4")).isEqualTo("MERCY");
        assertThat(t.get("/PID-3-5")).isEqualTo("MR");
        assertThat(t.get("/FINANCIAL(0)/FT1-4")).isEqualTo("20261114091000-0600");
    }

    @Test
    void theReceivingApplicationDefaultsToTheDestinationName() throws Exception {
        DestinationDefinition configured = CATALOG.destination("mercy-billing");
        DestinationDefinition bare = new DestinationDefinition(configured.name(), configured.file(), configured.connector(),
                configured.output(), configured.directory(), configured.url(), configured.timeout(), configured.format(),
                configured.maxAttempts(), configured.maxAge(), configured.initialBackoff(), configured.maxBackoff(),
                configured.pollInterval(), configured.lease(), configured.batchSize(), configured.oauth2Registration(),
                configured.retryRejected(), null);
        DFT_P03 dft = payloads.billingDft(bare, 7, journaled(Samples.read(Samples.MERCY)),
                journaled(Samples.read(Samples.MERCY)).lines().subList(0, 1));
        assertThat(dft.getMSH().getReceivingApplication().getNamespaceID().getValue()).isEqualTo("mercy-billing");
        assertThat(dft.getMSH().getReceivingFacility().getNamespaceID().getValue()).isNull();
    }

    @Test
    void aDateOnlyServiceDateStaysADateForBillingAndInventory() throws Exception {
        SupplyUsage usage = journaled(withFt1(Samples.read(Samples.MERCY), 4, "20261114"));
        Connector.Payload charges = payloads.render(CATALOG.destination("mercy-billing"), 7, 3, usage, java.util.List.of());
        Terser t = new Terser(HL7.parse(new String(charges.body(), StandardCharsets.UTF_8)));
        assertThat(t.get("/FINANCIAL(0)/FT1-4")).isEqualTo("20261114");

        Connector.Payload stock = payloads.render(CATALOG.destination("mercy-inventory"), 8, 3, usage, java.util.List.of());
        JsonNode movements = JSON.readTree(stock.body()).path("movements");
        assertThat(movements.path(0).path("time").asText()).isEqualTo("2026-11-14");
    }

    @Test
    void aDateOnlyServiceDateWithAnEasternOffsetKeepsItsDayThroughTheJournal() throws Exception {
        SupplyUsage usage = journaled(withFt1(Samples.read(Samples.MERCY), 4, "20261114+1300"));
        Connector.Payload stock = payloads.render(CATALOG.destination("mercy-inventory"), 8, 3, usage, java.util.List.of());
        assertThat(JSON.readTree(stock.body()).path("movements").path(0).path("time").asText()).isEqualTo("2026-11-14");
    }
}
