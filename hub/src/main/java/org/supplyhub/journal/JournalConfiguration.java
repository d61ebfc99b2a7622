package org.supplyhub.journal;

import com.zaxxer.hikari.HikariDataSource;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration
public class JournalConfiguration {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(JournalConfiguration.class);

    /**
     * The key of the patient and account search columns: {@code hub.journal.search-key} (base64, 256
     * bits). Interim until the journal's key ring holds it: without the property a random key is used,
     * so keys written before a restart no longer match a search.
     */
    @Bean
    @org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean(SearchKeys.class)
    SearchKeys searchKeys(@org.springframework.beans.factory.annotation.Value("${hub.journal.search-key:}") String base64) {
        if (!base64.isBlank()) {
            return new HmacSearchKeys(java.util.Base64.getDecoder().decode(base64.trim()));
        }
        log.warn("hub.journal.search-key is not set: patient searches only find messages stored since this start");
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        return new HmacSearchKeys(key);
    }

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
