package org.supplyhub.health;

import jakarta.annotation.PreDestroy;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.stereotype.Component;

import javax.sql.DataSource;
import java.sql.Connection;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The {@code db} health component, answered within {@code hub.health.db-timeout} (default 2 s).
 * Spring Boot's own check borrows a pooled connection, which waits out the pool's connection
 * timeout (30 s) when the database is unreachable: longer than a probe waits. Here the check runs on
 * a thread of its own and the answer is DOWN when it has not come in time; one check at a time,
 * so a hanging database does not pile up threads. The answer names no driver text (it can quote SQL).
 */
@Component("dbHealthIndicator")
public class DatabaseHealthIndicator implements HealthIndicator {

    private final DataSource dataSource;
    private final Duration timeout;
    private final ExecutorService checker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "db-health");
        t.setDaemon(true);
        return t;
    });
    private CompletableFuture<Health> running;

    public DatabaseHealthIndicator(DataSource dataSource, @Value("${hub.health.db-timeout:2s}") Duration timeout) {
        this.dataSource = dataSource;
        this.timeout = timeout;
    }

    @Override
    public Health health() {
        CompletableFuture<Health> check;
        synchronized (this) {
            if (running == null || running.isDone()) { // else join the check still waiting on the database
                running = CompletableFuture.supplyAsync(this::check, checker);
            }
            check = running;
        }
        try {
            return check.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return Health.down().withDetail("error", "no answer from the database within " + timeout.toMillis() + " ms")
                    .build();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Health.unknown().build();
        } catch (ExecutionException e) {
            return Health.down().withDetail("error", e.getCause().getClass().getName()).build();
        }
    }

    @PreDestroy
    void stop() {
        checker.shutdownNow();
    }

    private Health check() {
        int seconds = (int) Math.max(1, timeout.toSeconds());
        try (Connection c = dataSource.getConnection()) {
            String product = c.getMetaData().getDatabaseProductName();
            return c.isValid(seconds) ? Health.up().withDetail("database", product).build()
                    : Health.down().withDetail("database", product).withDetail("error", "connection not valid").build();
        } catch (Exception e) {
            return Health.down().withDetail("error", e.getClass().getName()).build();
        }
    }
}
