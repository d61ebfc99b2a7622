package org.supplyhub.journal;

import com.zaxxer.hikari.HikariDataSource;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.ApplicationListener;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.OwnerOnlyFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

@Configuration
public class JournalConfiguration {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(JournalConfiguration.class);

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
                if (bean instanceof HikariDataSource ds && h2File(ds.getJdbcUrl())) {
                    // before H2 creates its files: the folder is owner-only, whatever the umask
                    try {
                        OwnerOnlyFiles.directory(JournalKeys.dataDirectory(ds.getJdbcUrl()));
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot create the database folder owner-only", e);
                    }
                }
                return bean;
            }
        };
    }

    /**
     * Once the database is open: H2's files (created with the process umask) made owner-only (0600).
     * The 0700 folder already keeps other users out; this is for copies and backups of the folder.
     */
    @Bean
    static ApplicationListener<ApplicationReadyEvent> ownerOnlyDatabaseFiles(
            @Value("${spring.datasource.url:}") String url) {
        return ready -> {
            if (!h2File(url)) {
                return;
            }
            try (Stream<Path> files = Files.list(JournalKeys.dataDirectory(url))) {
                for (Path f : files.toList()) {
                    if (Files.isRegularFile(f)) {
                        OwnerOnlyFiles.file(f);
                    }
                }
            } catch (IOException e) {
                log.warn("Database files not made owner-only: {}", e.getClass().getSimpleName());
            }
        };
    }

    private static boolean h2File(String url) {
        return url != null && url.startsWith("jdbc:h2:") && !url.startsWith("jdbc:h2:mem:")
                && !url.startsWith("jdbc:h2:tcp:") && !url.startsWith("jdbc:h2:ssl:");
    }
}
