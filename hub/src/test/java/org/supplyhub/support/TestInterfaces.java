package org.supplyhub.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
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
     * It is taken below the kernel's ephemeral range: a port from that range (what binding port 0
     * gives) can be taken by any outgoing connection between this call and the listener's bind — a
     * JDBC connection took one in a full run (BindException at context start).
     */
    public static int freePort() {
        int below = ephemeralLow();
        int from = Math.max(1024, Math.min(PORTS_FROM, below - 2000));
        while (true) {
            int port = from + RANDOM.nextInt(below - from);
            if (!HANDED_OUT.add(port)) {
                continue;
            }
            try (ServerSocket s = new ServerSocket()) {
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(port));
                return port;
            } catch (IOException inUse) {
                // some other process listens there: try another
            }
        }
    }

    private static final int PORTS_FROM = 20000;
    private static final Random RANDOM = new Random();

    /** The first port the kernel hands to outgoing connections (Linux; 32768 elsewhere). */
    private static int ephemeralLow() {
        try {
            // readAllLines, not readString: procfs reports size 0 and JDK 17's readString then returned "3" (bound must be positive)
            return Integer.parseInt(Files.readAllLines(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).get(0).trim().split("\\s+")[0]);
        } catch (IOException | RuntimeException e) {
            return 32768;
        }
    }
}
