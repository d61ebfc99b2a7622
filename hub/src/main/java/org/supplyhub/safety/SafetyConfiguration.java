package org.supplyhub.safety;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import java.time.Clock;

/**
 * The implant checks over whatever recall list and implant history the application provides
 * (config's recall list, the journal's device index); without them, those two checks find nothing.
 */
@Configuration(proxyBeanMethods = false)
public class SafetyConfiguration {

    @Bean
    ImplantChecks implantChecks(ObjectProvider<RecallIndex> recalls, ObjectProvider<ImplantHistory> history) {
        return new ImplantChecks(recalls.getIfAvailable(() -> RecallIndex.NONE),
                history.getIfAvailable(() -> ImplantHistory.NONE), Clock.systemUTC());
    }
}
