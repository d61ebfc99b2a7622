package org.supplyhub.config;

import org.supplyhub.mapping.ConfigurationException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The files a configuration is made of: every file under {@code routes/} and {@code mappings/}
 * (profiles, crosswalks, lookup tables), except the mapping tests under {@code mappings/tests/},
 * which are inputs of the {@code test} command, not configuration.
 */
public final class ConfigFiles {

    /** Sub-directory of {@code mappings/} that is not configuration. */
    public static final String MAPPING_TESTS = "tests";

    private ConfigFiles() {
    }

    /** {@code routes/<file>} and {@code mappings/<file>} → SHA-256 (hex), sorted by name. */
    public static Map<String, String> hashes(Path routesDir, Path mappingsDir) {
        Map<String, String> hashes = new TreeMap<>();
        hash(routesDir, "routes/", hashes);
        hash(mappingsDir, "mappings/", hashes);
        return hashes;
    }

    /** Whether a path under {@code mappingsDir} belongs to the configuration. */
    public static boolean isConfiguration(Path mappingsDir, Path file) {
        Path relative = mappingsDir.toAbsolutePath().normalize().relativize(file.toAbsolutePath().normalize());
        return relative.getNameCount() == 0 || !relative.getName(0).toString().equals(MAPPING_TESTS);
    }

    private static void hash(Path dir, String prefix, Map<String, String> into) {
        if (!Files.isDirectory(dir)) {
            return; // InterfaceCatalog.load names a missing directory
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                if (prefix.equals("mappings/") && !isConfiguration(dir, file)) {
                    continue;
                }
                String name = prefix + dir.relativize(file).toString().replace('\\', '/');
                into.put(name, sha256(Files.readAllBytes(file)));
            }
        } catch (IOException e) {
            throw new ConfigurationException("cannot read " + dir + ": " + e.getMessage(), e);
        }
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
