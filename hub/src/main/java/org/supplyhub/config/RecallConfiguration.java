package org.supplyhub.config;

import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.supplyhub.safety.RecallIndex;

/** The recall index the implant checks use, and the optional fetched list behind it. */
@Configuration
public class RecallConfiguration {

    @Bean(destroyMethod = "close")
    RecallFeed recallFeed(RecallFeed.Settings settings, MeterRegistry meters) {
        RecallFeed feed = new RecallFeed(settings, meters);
        feed.start(); // first fetch now, in the background: start-up does not wait for the source
        return feed;
    }

    @Bean
    RecallIndex recallIndex(RunningConfig running, RecallFeed feed) {
        return new CurrentRecalls(running, feed);
    }
}
