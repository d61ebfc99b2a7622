package org.supplyhub.config;

import java.time.Instant;
import java.util.Map;

/**
 * One loaded, validated configuration: the catalog built from {@code routes/} and {@code mappings/},
 * the SHA-256 of every file it was read from ({@code routes/x.yaml} → hex), and when it was loaded.
 * Immutable; live reload replaces the whole snapshot, never a part of it.
 */
public record ConfigSnapshot(InterfaceCatalog catalog, Map<String, String> files, Instant loadedAt) {

    public ConfigSnapshot {
        files = Map.copyOf(files);
    }

    /** Reads and checks both directories; throws {@link org.supplyhub.mapping.ConfigurationException} if anything is wrong. */
    public static ConfigSnapshot load(java.nio.file.Path routesDir, java.nio.file.Path mappingsDir) {
        // hashed before reading: a file edited during the load has a newer hash, and the watcher reloads again
        Map<String, String> files = ConfigFiles.hashes(routesDir, mappingsDir);
        InterfaceCatalog catalog = InterfaceCatalog.load(routesDir, mappingsDir);
        return new ConfigSnapshot(catalog, files, Instant.now());
    }
}
