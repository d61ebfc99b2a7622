package org.supplyhub.ingest;

import jakarta.annotation.PreDestroy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.context.event.EventListener;
import org.springframework.stereotype.Component;
import org.supplyhub.config.ConfigFiles;
import org.supplyhub.ingest.IngestConfiguration.HubProperties;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Reloads the configuration when a file under {@code routes/} or {@code mappings/} changes
 * ({@code hub.config.watch}, on by default). Changes are debounced: an editor's save (often a
 * write, a rename and a delete) and a copy of several files give one reload, 500 ms after the
 * last change. The mapping tests under {@code mappings/tests/} are not configuration and are not watched.
 */
@Component
@ConditionalOnProperty(name = "hub.config.watch", havingValue = "true", matchIfMissing = true)
public class ConfigWatcher {

    private static final Logger log = LoggerFactory.getLogger(ConfigWatcher.class);
    static final long DEBOUNCE_MILLIS = 500;

    private final ConfigReloader reloader;
    private final HubProperties hub;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "config-watch");
        t.setDaemon(true);
        return t;
    });
    private WatchService watcher;
    private ScheduledFuture<?> pending;

    public ConfigWatcher(ConfigReloader reloader, HubProperties hub) {
        this.reloader = reloader;
        this.hub = hub;
    }

    /** Starts watching once the routes run, so the first reload compares against a started set. */
    @EventListener(ApplicationReadyEvent.class)
    public void start() throws IOException {
        watcher = FileSystems.getDefault().newWatchService();
        register(hub.routesDir());
        register(hub.mappingsDir());
        Thread thread = new Thread(this::watch, "config-watch-events");
        thread.setDaemon(true);
        thread.start();
        log.info("Watching {} and {} for changes (hub.config.watch)", hub.routesDir(), hub.mappingsDir());
    }

    private void register(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> dirs = Files.walk(dir)) {
            for (Path d : dirs.filter(Files::isDirectory).toList()) {
                if (isConfiguration(d)) {
                    d.register(watcher, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                            StandardWatchEventKinds.ENTRY_DELETE);
                }
            }
        }
    }

    private void watch() {
        try {
            while (true) {
                WatchKey key = watcher.take();
                Path dir = (Path) key.watchable();
                boolean relevant = false;
                for (WatchEvent<?> event : key.pollEvents()) {
                    Path changed = event.context() instanceof Path p ? dir.resolve(p) : dir;
                    if (!isConfiguration(changed)) {
                        continue;
                    }
                    relevant = true;
                    if (event.kind() == StandardWatchEventKinds.ENTRY_CREATE && Files.isDirectory(changed)) {
                        register(changed);
                    }
                }
                key.reset();
                if (relevant) {
                    schedule();
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            log.error("Watching the configuration stopped ({}); reload with POST /api/config/reload", e.getMessage());
        }
    }

    /** Everything under routes/, and what under mappings/ is configuration (not mappings/tests/). */
    private boolean isConfiguration(Path path) {
        Path mappings = hub.mappingsDir().toAbsolutePath().normalize();
        return !path.toAbsolutePath().normalize().startsWith(mappings) || ConfigFiles.isConfiguration(mappings, path);
    }

    private synchronized void schedule() {
        if (pending != null) {
            pending.cancel(false);
        }
        pending = scheduler.schedule(this::reload, DEBOUNCE_MILLIS, TimeUnit.MILLISECONDS);
    }

    private void reload() {
        try {
            reloader.reload(ConfigReloader.FILE_WATCH);
        } catch (RuntimeException e) {
            log.error("Configuration reload after a file change failed", e);
        }
    }

    @PreDestroy
    public void stop() throws IOException {
        scheduler.shutdownNow();
        if (watcher != null) {
            watcher.close();
        }
    }
}
