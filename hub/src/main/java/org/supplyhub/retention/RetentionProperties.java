package org.supplyhub.retention;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.boot.context.properties.bind.Name;

import java.time.Duration;
import java.util.Map;

/**
 * {@code hub.retention.*}: how long message content is kept. A compliance policy, so it lives with the
 * operator's configuration (one file a privacy officer can read), not in the interface files.
 *
 * @param defaultPeriod {@code hub.retention.default}: for every interface not named below
 * @param interfaces    per interface id, its own period (overrides the default)
 * @param schedule      Spring cron (6 fields: second minute hour day month weekday, server time zone);
 *                      {@code -} turns the scheduled purge off
 * @param batchSize     messages per transaction
 */
@ConfigurationProperties("hub.retention")
public record RetentionProperties(@Name("default") @DefaultValue("90d") Duration defaultPeriod,
                                  Map<String, Duration> interfaces,
                                  @DefaultValue("0 15 2 * * *") String schedule,
                                  @DefaultValue("200") int batchSize) {

    public RetentionProperties {
        interfaces = interfaces == null ? Map.of() : Map.copyOf(interfaces);
        if (batchSize < 1 || batchSize > 10_000) {
            throw new org.supplyhub.mapping.ConfigurationException("hub.retention.batch-size must be from 1 to 10000 (got " + batchSize + ")");
        }
    }

    public RetentionPolicy policy() {
        return new RetentionPolicy(defaultPeriod, interfaces);
    }
}
