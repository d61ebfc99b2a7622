package org.supplyhub.ops;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@link Stack#start(StackOptions)} starts.
 *
 * @param runDir   where the run keeps routes, keys, logs (created if missing)
 * @param nodes    number of hub nodes
 * @param keycloak run Keycloak and put the hubs in external-issuer mode
 * @param hubJar   the hub's executable jar
 * @param hubEnv   extra environment for every hub node (overrides the stack's own)
 * @param receivers where billing / inventory / FHIR receivers listen; null = file destinations
 */
public record StackOptions(Path runDir, int nodes, boolean keycloak, Path hubJar,
                           Map<String, String> hubEnv, ReceiverPorts receivers) {

    public StackOptions {
        if (nodes < 1) {
            throw new IllegalArgumentException("nodes must be at least 1, was " + nodes);
        }
        hubEnv = hubEnv == null ? Map.of() : Map.copyOf(hubEnv);
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private Path runDir;
        private int nodes = 2;
        private boolean keycloak;
        private Path hubJar;
        private final Map<String, String> hubEnv = new LinkedHashMap<>();
        private ReceiverPorts receivers;

        public Builder runDir(Path runDir) {
            this.runDir = runDir;
            return this;
        }

        public Builder nodes(int nodes) {
            this.nodes = nodes;
            return this;
        }

        public Builder keycloak(boolean keycloak) {
            this.keycloak = keycloak;
            return this;
        }

        public Builder hubJar(Path hubJar) {
            this.hubJar = hubJar;
            return this;
        }

        public Builder hubEnv(String name, String value) {
            this.hubEnv.put(name, value);
            return this;
        }

        public Builder hubEnv(Map<String, String> env) {
            this.hubEnv.putAll(env);
            return this;
        }

        public Builder receivers(ReceiverPorts receivers) {
            this.receivers = receivers;
            return this;
        }

        public StackOptions build() {
            return new StackOptions(runDir, nodes, keycloak, hubJar, hubEnv, receivers);
        }
    }
}
