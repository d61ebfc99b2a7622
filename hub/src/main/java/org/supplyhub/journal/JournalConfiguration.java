package org.supplyhub.journal;

import com.zaxxer.hikari.HikariDataSource;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration
public class JournalConfiguration {

    /**
     * On PostgreSQL, let the driver turn the journal's batches (resources, outbox rows) into
     * multi-row inserts: one statement per table per group commit instead of one per row. And keep
     * the values of a failed batch (raw messages, usage JSON) and the server's error detail out of
     * the driver's exception text, which pools and frameworks log.
     */
    @Bean
    static BeanPostProcessor postgresBatchRewrite() {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessBeforeInitialization(Object bean, String beanName) {
                if (bean instanceof HikariDataSource ds && ds.getJdbcUrl() != null
                        && ds.getJdbcUrl().startsWith("jdbc:postgresql:")) {
                    ds.addDataSourceProperty("reWriteBatchedInserts", "true");
                    ds.addDataSourceProperty("logServerErrorDetail", "false");
                }
                return bean;
            }
        };
    }
}
