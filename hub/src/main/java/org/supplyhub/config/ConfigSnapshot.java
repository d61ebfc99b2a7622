package org.supplyhub.config;

import org.supplyhub.mapping.ConfigurationException;
import org.supplyhub.safety.recall.RecallList;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * One loaded, validated configuration: the catalog built from {@code routes/} and {@code mappings/},
 * the recall list ({@code mappings/recalls.csv}, empty without the file), the SHA-256 of every file
 * it was read from ({@code routes/x.yaml} → hex), and when it was loaded.
 * Immutable; live reload replaces the whole snapshot, never a part of it.
 */
public record ConfigSnapshot(InterfaceCatalog catalog, RecallList recalls, Map<String, String> files, Instant loadedAt) {

    public ConfigSnapshot {
        files = Map.copyOf(files);
    }

    /** Reads and checks both directories; throws {@link org.supplyhub.mapping.ConfigurationException} if anything is wrong. */
    public static ConfigSnapshot load(java.nio.file.Path routesDir, java.nio.file.Path mappingsDir) {
        // hashed before reading: a file edited during the load has a newer hash, and the watcher reloads again
        Map<String, String> files = ConfigFiles.hashes(routesDir, mappingsDir);
        // the problems of the interfaces and of the recall list are reported together
        List<ConfigurationException.Problem> problems = new ArrayList<>();
        InterfaceCatalog catalog = null;
        RecallList recalls = null;
        try {
            catalog = InterfaceCatalog.load(routesDir, mappingsDir);
        } catch (ConfigurationException e) {
            problems.addAll(e.problems());
        }
        try {
            recalls = RecallList.load(mappingsDir);
        } catch (ConfigurationException e) {
            problems.addAll(e.problems());
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        return new ConfigSnapshot(catalog, recalls, files, Instant.now());
    }
}
