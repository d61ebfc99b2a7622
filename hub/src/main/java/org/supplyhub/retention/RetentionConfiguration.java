package org.supplyhub.retention;

import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.time.Clock;

/** The hub's clock. */
@Configuration
public class RetentionConfiguration {

    /** The time retention (and anything else that asks) runs on; tests put a clock of their own in its place. */
    @Bean
    @ConditionalOnMissingBean(Clock.class)
    Clock clock() {
        return Clock.systemUTC();
    }
}
