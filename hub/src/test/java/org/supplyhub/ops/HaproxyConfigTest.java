package org.supplyhub.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.supplyhub.support.TestInterfaces;

/**
 * ops/haproxy/haproxy.cfg, which ops/stack and docker compose share: HAProxy accepts it with every
 * address from the environment, for one, two and three nodes, and every shipped MLLP interface has
 * its frontend. Needs HAProxy installed (apt-get install -y haproxy).
 */
class HaproxyConfigTest {

    static final Path CFG = TestInterfaces.projectRoot().resolve("ops/haproxy/haproxy.cfg");
    static final List<String> INTERFACES = List.of("mercy-or", "lakeside-cath", "riverside-ir", "valley-cath");

    @Test
    void everyInterfaceHasAFrontendAndABackendPerNode() throws Exception {
        String file = Files.readString(CFG);
        for (String id : INTERFACES) {
            assertThat(file).contains("bind \"${HAPROXY_BIND}:${HAPROXY_" + Stack.envName(id) + "_PORT}\"");
        }
        String three = Stack.haproxyConfig(file, 3);
        assertThat(three.lines().filter(l -> l.trim().startsWith("server hub3 ")).count()).isEqualTo(INTERFACES.size() + 1);
        assertThat(Stack.haproxyConfig(file, 1)).doesNotContain("server hub2 ");
    }

    @Test
    void haproxyAcceptsItForOneTwoAndThreeNodes() throws Exception {
        for (int nodes = 1; nodes <= 3; nodes++) {
            Path cfg = Files.createTempFile("haproxy", ".cfg");
            Files.writeString(cfg, Stack.haproxyConfig(Files.readString(CFG), nodes));
            Map<String, String> env = new TreeMap<>(Map.of("HAPROXY_BIND", "127.0.0.1", "HAPROXY_HTTP_PORT", "18080",
                    "HAPROXY_STATS_PORT", "18404"));
            int port = 20000;
            for (String id : INTERFACES) {
                env.put("HAPROXY_" + Stack.envName(id) + "_PORT", Integer.toString(port++));
            }
            for (int n = 1; n <= nodes; n++) {
                env.put("HUB" + n + "_HOST", "127.0.0.1");
                env.put("HUB" + n + "_HTTP_PORT", Integer.toString(port++));
                for (String id : INTERFACES) {
                    env.put("HUB" + n + "_" + Stack.envName(id) + "_PORT", Integer.toString(port++));
                }
            }
            ProcessBuilder check = new ProcessBuilder(Stack.haproxyBinary(), "-c", "-f", cfg.toString()).redirectErrorStream(true);
            check.environment().putAll(env);
            Process p = check.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor()).as(nodes + " node(s): " + out).isZero();
            assertThat(out).doesNotContain("WARNING");
            Files.delete(cfg);
        }
    }
}
