package org.supplyhub.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The shipped {@code routes/*.yaml}, copied with each MLLP port moved to a free one, so that test
 * contexts run side by side and still exercise the real interface files and mappings.
 */
public final class TestInterfaces {

    private static final Pattern PORT = Pattern.compile("(- name: port\\s*\\n\\s*value: )\"?(\\d+)\"?");

    public final Path routesDir;
    public final Path mappingsDir;
    /** Where the shipped file destinations write in this test. */
    public final Path outDir;
    /** interface id → the MLLP port it listens on in this test. */
    public final Map<String, Integer> ports = new HashMap<>();

    private TestInterfaces(Path routesDir, Path mappingsDir) {
        this.routesDir = routesDir;
        this.mappingsDir = mappingsDir;
        this.outDir = routesDir.resolveSibling(routesDir.getFileName() + "-out");
    }

    public static TestInterfaces copyOfShipped() {
        try {
            Path root = projectRoot();
            Path dir = Files.createTempDirectory("hub-routes");
            TestInterfaces t = new TestInterfaces(dir, root.resolve("mappings"));
            try (Stream<Path> files = Files.list(root.resolve("routes"))) {
                for (Path file : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                    String text = Files.readString(file);
                    Matcher m = PORT.matcher(text);
                    StringBuilder out = new StringBuilder();
                    while (m.find()) {
                        int port = freePort();
                        m.appendReplacement(out, m.group(1) + "\"" + port + "\"");
                        t.ports.put(file.getFileName().toString().replace(".yaml", ""), port);
                    }
                    m.appendTail(out);
                    // file destinations write below this test's own directory
                    String text2 = out.toString().replace("value: data/out/", "value: " + t.outDir + "/");
                    Files.writeString(dir.resolve(file.getFileName()), text2);
                }
            }
            return t;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public Map<String, String> properties() {
        return Map.of("hub.routes-dir", routesDir.toString(), "hub.mappings-dir", mappingsDir.toString());
    }

    public static Path projectRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isDirectory(dir.resolve("routes"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException("cannot find the project root (a directory with routes/)");
        }
        return dir;
    }

    /** The sample messages (copies of shared/samples kept with the tests). */
    public static Path samples() {
        return projectRoot().resolve("hub/src/test/resources/samples");
    }

    /** Ports handed out in this JVM: the OS may offer a just-closed ephemeral port again. */
    private static final java.util.Set<Integer> HANDED_OUT = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * A port free now and never handed out before in this JVM. Without the second condition two
     * interfaces of one test got the same port (seen in a clean-clone run with four interfaces).
     */
    public static int freePort() {
        while (true) {
            try (ServerSocket s = new ServerSocket(0)) {
                s.setReuseAddress(true);
                if (HANDED_OUT.add(s.getLocalPort())) {
                    return s.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
