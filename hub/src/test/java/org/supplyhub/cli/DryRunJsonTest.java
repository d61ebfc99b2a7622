package org.supplyhub.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration;
import org.springframework.boot.test.context.ConfigDataApplicationContextInitializer;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code try} prints the usage as the hub journals it: its ObjectMapper writes (and reads back) the
 * same JSON as the one Spring Boot builds from application.yml for intake and delivery.
 */
class DryRunJsonTest {

    static final Path ROOT = TestInterfaces.projectRoot();

    @Test
    void theUsageJsonIsTheJournalsJson() {
        InterfaceCatalog catalog = InterfaceCatalog.load(ROOT.resolve("routes"), ROOT.resolve("mappings"));
        MessageTranslator translator = new MessageTranslator(new Hl7Support());
        new ApplicationContextRunner()
                .withInitializer(new ConfigDataApplicationContextInitializer()) // application.yml's spring.jackson
                .withConfiguration(AutoConfigurations.of(JacksonAutoConfiguration.class))
                .run(context -> {
                    ObjectMapper hub = context.getBean(ObjectMapper.class);
                    for (String[] sample : new String[][] {{"mercy-or", Samples.MERCY}, {"mercy-or", Samples.MERCY_CREDIT},
                            {"lakeside-cath", Samples.LAKESIDE}}) {
                        MessageTranslator.Translation t = translator.translate(catalog.get(sample[0]),
                                Samples.read(sample[1]).getBytes(StandardCharsets.UTF_8), null);
                        assertThat(t).isInstanceOf(MessageTranslator.Accepted.class);
                        SupplyUsage usage = ((MessageTranslator.Accepted) t).usage();
                        String journaled = hub.writeValueAsString(usage);
                        assertThat(DryRun.JSON.writeValueAsString(usage)).isEqualTo(journaled);
                        assertThat(DryRun.JSON.readValue(journaled, SupplyUsage.class))
                                .isEqualTo(hub.readValue(journaled, SupplyUsage.class));
                    }
                });
    }
}
