package org.supplyhub.retention;

import jakarta.annotation.PostConstruct;
import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.scheduling.support.CronExpression;
import org.springframework.scheduling.support.CronTrigger;
import org.springframework.stereotype.Component;

/**
 * Runs the purge on a thread of its own, on {@code hub.retention.schedule} (cron); {@code -} turns it
 * off. Every node may run it: the batches' row locks share the work. A failed run is logged (class only:
 * driver text can quote values) and the next one tries again.
 */
@Component
public class RetentionSchedule {

    private static final Logger log = LoggerFactory.getLogger(RetentionSchedule.class);

    private final RetentionProperties properties;
    private final RetentionPurge purge;
    private ThreadPoolTaskScheduler scheduler;

    public RetentionSchedule(RetentionProperties properties, RetentionPurge purge) {
        this.properties = properties;
        this.purge = purge;
    }

    @PostConstruct
    void start() {
        String cron = properties.schedule().trim();
        if ("-".equals(cron)) {
            log.info("Retention purge: not scheduled (hub.retention.schedule: -)");
            return;
        }
        if (!CronExpression.isValidExpression(cron)) {
            throw new org.supplyhub.mapping.ConfigurationException("hub.retention.schedule is not a cron expression of 6 fields"
                    + " (second minute hour day month weekday), e.g. \"0 15 2 * * *\", or - for none; got '" + cron + "'");
        }
        scheduler = new ThreadPoolTaskScheduler();
        scheduler.setPoolSize(1);
        scheduler.setThreadNamePrefix("retention-");
        scheduler.setDaemon(true);
        scheduler.initialize();
        scheduler.schedule(this::runQuietly, new CronTrigger(cron));
        log.info("Retention purge scheduled: {} (default period {}, {} interface override(s))", cron,
                RetentionPolicy.words(properties.defaultPeriod()), properties.interfaces().size());
    }

    private void runQuietly() {
        try {
            purge.run();
        } catch (RuntimeException e) {
            log.error("Retention purge failed: {}; the next scheduled run tries again", e.getClass().getSimpleName());
        }
    }

    @PreDestroy
    void stop() {
        if (scheduler != null) {
            scheduler.shutdown();
        }
    }
}
