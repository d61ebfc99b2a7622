package org.supplyhub.ops;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What {@link Stack#start(StackOptions)} starts.
 *
 * @param runDir    where the run keeps routes, keys and logs (created if missing)
 * @param nodes     number of hub nodes
 * @param keycloak  run Keycloak and put the hubs in external-issuer mode
 * @param hubJar    the hub's executable jar; null: the hub's classes on this JVM's classpath (a test
 *                  in {@code ./mvnw verify} runs before the jar is packaged)
 * @param hubEnv    extra environment for every hub node (wins over the stack's own)
 * @param receivers where billing / inventory / FHIR receivers listen; null: file destinations under
 *                  {@code runDir/out}
 * @param pgCluster a throw-away PostgreSQL cluster ({@code initdb} + {@code pg_ctl}) in the run dir
 *                  instead of a fresh database on the server at 127.0.0.1:5432
 * @param repoDir   the repository (its {@code routes/}, {@code mappings/}, {@code ops/}); null: found
 *                  upwards from the working directory
 */
public record StackOptions(Path runDir, int nodes, boolean keycloak, Path hubJar,
                           Map<String, String> hubEnv, ReceiverPorts receivers, boolean pgCluster, Path repoDir) {

    public StackOptions {
        if (nodes < 1) {
            throw new IllegalArgumentException("nodes must be at least 1, was " + nodes);
        }
        if (runDir == null) {
            throw new IllegalArgumentException("runDir is required");
        }
        hubEnv = hubEnv == null ? Map.of() : Map.copyOf(hubEnv);
    }

    /** The contract's shape: local PostgreSQL server, repository found from the working directory. */
    public StackOptions(Path runDir, int nodes, boolean keycloak, Path hubJar,
                        Map<String, String> hubEnv, ReceiverPorts receivers) {
        this(runDir, nodes, keycloak, hubJar, hubEnv, receivers, false, null);
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
        private boolean pgCluster;
        private Path repoDir;

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

        public Builder pgCluster(boolean pgCluster) {
            this.pgCluster = pgCluster;
            return this;
        }

        public Builder repoDir(Path repoDir) {
            this.repoDir = repoDir;
            return this;
        }

        public StackOptions build() {
            return new StackOptions(runDir, nodes, keycloak, hubJar, hubEnv, receivers, pgCluster, repoDir);
        }
    }
}
