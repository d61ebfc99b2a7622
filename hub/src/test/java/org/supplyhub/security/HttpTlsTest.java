package org.supplyhub.security;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.web.ServerProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.env.YamlPropertySourceLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.PropertySource;
import org.springframework.core.io.ClassPathResource;
import org.supplyhub.mapping.ConfigurationException;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Production without TLS does not start: the guard alone, and the prod profile turning it on. */
class HttpTlsTest {

    @EnableConfigurationProperties({SecurityProperties.class, ServerProperties.class})
    static class Guard { }

    final ApplicationContextRunner runner = new ApplicationContextRunner().withUserConfiguration(Guard.class, HttpTls.class);

    @Test
    void requiringTlsWithoutItRefusesToStart() {
        runner.withPropertyValues("hub.security.require-tls=true").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("server.ssl.bundle").hasMessageContaining("behind-tls-proxy");
        });
    }

    @Test
    void anSslBundleOrATlsProxyMeetsTheRequirement() {
        runner.withPropertyValues("hub.security.require-tls=true", "server.ssl.bundle=web")
                .run(context -> assertThat(context).hasNotFailed());
        runner.withPropertyValues("hub.security.require-tls=true", "hub.security.behind-tls-proxy=true")
                .run(context -> assertThat(context).hasNotFailed());
        runner.run(context -> assertThat(context).hasNotFailed()); // development: a warning only
    }

    @Test
    void theProdProfileRequiresTls() throws Exception {
        List<PropertySource<?>> documents = new YamlPropertySourceLoader().load("application.yml",
                new ClassPathResource("application.yml"));
        PropertySource<?> prod = documents.stream()
                .filter(d -> "prod".equals(d.getProperty("spring.config.activate.on-profile"))).findFirst().orElseThrow();
        assertThat(prod.getProperty("hub.security.require-tls")).isEqualTo(true);
    }
}
