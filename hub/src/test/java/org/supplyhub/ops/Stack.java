package org.supplyhub.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.supplyhub.support.TcpProxy;
import org.supplyhub.support.TestInterfaces;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * The production topology on one host without Docker: a fresh PostgreSQL database (on the local
 * server, or a throw-away {@code pg_ctl} cluster) behind a {@link TcpProxy} the hubs connect
 * through, N hub nodes as {@code java -jar} child processes sharing one signing key and issuer URL,
 * HAProxy in front of them ({@code ops/haproxy/haproxy.cfg}), and optionally Keycloak as the
 * external issuer. Every process it starts is recorded in {@code runDir/pids} and stopped by
 * {@link #close()}.
 */
public final class Stack implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Stack.class);
    static final String POSTGRES_HOST = "127.0.0.1";
    static final int POSTGRES_PORT = 5432;
    static final String REALM = "supply-hub";
    static final String KEYCLOAK_JAVA_HOME = "/usr/lib/jvm/temurin-25-jdk-amd64";
    /** The sample clients: the embedded issuer's demo secrets; Keycloak gets secrets made per run. */
    // hub-metrics exists only in the Keycloak realm (the embedded issuer has no such client); listed so
    // Keycloak's import gets a generated ${HUB_METRICS_SECRET} like the others
    static final Map<String, String> DEMO_SECRETS = Map.of(
            "mercy-ormgr", "mercy-demo-secret", "lakeside-cathlab", "lakeside-demo-secret", "hub-admin", "admin-demo-secret",
            "hub-metrics", "metrics-demo-secret");
    static final String ADMIN_CLIENT = "hub-admin";
    static final String ADMIN_SCOPES = "messages:read messages:replay metrics:read config:write";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

    private final StackOptions options;
    private final Path repo;
    private final Path runDir;
    private final Path logs;
    private final List<String> interfaces = new ArrayList<>();
    private final Map<String, Integer> frontendPorts = new LinkedHashMap<>();
    private final List<HubNode> nodes = new ArrayList<>();
    private final List<Path> routesDirs = new ArrayList<>();
    private final Map<String, Process> services = new LinkedHashMap<>();
    private final Map<String, String> clientSecrets = new LinkedHashMap<>();
    private int httpPort;
    private int statsPort;
    private int keycloakPort;
    private Path pgCluster;
    private int postgresPort = POSTGRES_PORT;
    private String database;
    private TcpProxy databaseProxy;
    private String cachedAdminToken;
    private long adminTokenAt;
    private boolean closed;

    private Stack(StackOptions options) {
        this.options = options;
        this.repo = options.repoDir() != null ? options.repoDir().toAbsolutePath() : TestInterfaces.projectRoot();
        this.runDir = options.runDir().toAbsolutePath();
        this.logs = runDir.resolve("logs");
    }

    /** Starts everything and returns when every node is healthy and HAProxy routes to them. */
    public static Stack start(StackOptions options) {
        Stack stack = new Stack(options);
        try {
            stack.startAll();
            return stack;
        } catch (IOException e) {
            stack.close();
            throw new UncheckedIOException("stack did not start: " + e.getMessage(), e);
        } catch (RuntimeException | Error e) {
            stack.close();
            throw e;
        }
    }

    private void startAll() throws IOException {
        long started = System.nanoTime();
        Files.createDirectories(logs);
        if (options.hubJar() != null && !Files.isRegularFile(options.hubJar())) {
            throw new IllegalStateException("hub jar " + options.hubJar() + " missing: ./mvnw -q -o -pl hub package -DskipTests");
        }
        String haproxy = haproxyBinary();
        readInterfaces();
        httpPort = TestInterfaces.freePort();
        statsPort = TestInterfaces.freePort();
        for (String id : interfaces) {
            frontendPorts.put(id, TestInterfaces.freePort());
        }
        startDatabase();
        Path key = writeSigningKey();
        writeDataKeys();
        if (options.keycloak()) {
            startKeycloak();
        }
        for (int i = 0; i < options.nodes(); i++) {
            nodes.add(prepareNode(i, key));
        }
        nodes.forEach(HubNode::start);
        for (HubNode node : nodes) {
            // a bound, not an estimate: on this 2-core machine under load (load average 35) a node took over 3 minutes
            node.awaitHealthy(Duration.ofMinutes(10));
        }
        startHaproxy(haproxy);
        awaitPort(httpPort, Duration.ofSeconds(20));
        awaitThroughBalancer(Duration.ofSeconds(30));
        log.info("stack up in {} s: {} node(s), HAProxy http {}, run dir {}",
                Duration.ofNanos(System.nanoTime() - started).toSeconds(), nodes.size(), httpPort, runDir);
    }

    // ---- the API the fault campaign uses ----

    public List<HubNode> nodes() {
        return List.copyOf(nodes);
    }

    public HubNode node(int index) {
        return nodes.get(index);
    }

    /** What the hubs connect to the database through: {@code cut()} is a database outage. */
    public TcpProxy database() {
        return databaseProxy;
    }

    /** The database directly (not through the proxy), for tallies. User postgres, no password. */
    public String jdbcUrl() {
        return "jdbc:postgresql://" + POSTGRES_HOST + ":" + postgresPort + "/" + database;
    }

    /** The interface's MLLP port on HAProxy. */
    public int mllpPort(String interfaceId) {
        Integer port = frontendPorts.get(interfaceId);
        if (port == null) {
            throw new IllegalArgumentException("no MLLP interface '" + interfaceId + "' (known: " + frontendPorts.keySet() + ")");
        }
        return port;
    }

    public Map<String, Integer> mllpPorts() {
        return Map.copyOf(frontendPorts);
    }

    /** The HTTP API through HAProxy; also the embedded issuer's URL ({@code iss}) on every node. */
    public URI httpBase() {
        return URI.create("http://127.0.0.1:" + httpPort);
    }

    public URI statsPage() {
        return URI.create("http://127.0.0.1:" + statsPort + "/stats");
    }

    /** Keycloak's realm URL (the hubs' issuer), or null without Keycloak. */
    public URI keycloakIssuer() {
        return options.keycloak() ? URI.create("http://127.0.0.1:" + keycloakPort + "/realms/" + REALM) : null;
    }

    /** The token endpoint clients use: Keycloak's, or the embedded issuer's through HAProxy. */
    public URI tokenEndpoint() {
        return options.keycloak() ? URI.create(keycloakIssuer() + "/protocol/openid-connect/token")
                : URI.create(httpBase() + "/oauth2/token");
    }

    /** A sample client's secret in this run (Keycloak: made for the run; embedded: the demo secret). */
    public String clientSecret(String clientId) {
        String secret = options.keycloak() ? clientSecrets.get(clientId) : DEMO_SECRETS.get(clientId);
        if (secret == null) {
            throw new IllegalArgumentException("no client '" + clientId + "'");
        }
        return secret;
    }

    /** A client_credentials token; {@code scope} null asks for the client's default scopes. */
    public String token(String clientId, String scope) {
        String basic = Base64.getEncoder().encodeToString((clientId + ":" + clientSecret(clientId)).getBytes(StandardCharsets.UTF_8));
        String form = "grant_type=client_credentials" + (scope == null ? "" : "&scope=" + URLEncoder.encode(scope, StandardCharsets.UTF_8));
        HttpRequest request = HttpRequest.newBuilder(tokenEndpoint()).timeout(Duration.ofSeconds(20))
                .header("Authorization", "Basic " + basic)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(form)).build();
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("token for " + clientId + " from " + tokenEndpoint() + ": HTTP " + response.statusCode());
            }
            return new ObjectMapper().readTree(response.body()).get("access_token").asText();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** A hub-admin token (messages:read, messages:replay, metrics:read, config:write), renewed after 10 minutes. */
    public synchronized String adminToken() {
        if (cachedAdminToken == null || System.currentTimeMillis() - adminTokenAt > Duration.ofMinutes(10).toMillis()) {
            cachedAdminToken = token(ADMIN_CLIENT, options.keycloak() ? null : ADMIN_SCOPES);
            adminTokenAt = System.currentTimeMillis();
        }
        return cachedAdminToken;
    }

    /** That node's routes dir (nodes on one host need their own MLLP ports). */
    public Path routesDir(int node) {
        return routesDirs.get(node);
    }

    public Path runDir() {
        return runDir;
    }

    public Path logsDir() {
        return logs;
    }

    /** The processes besides the nodes (haproxy, keycloak) by name, for status output. */
    public Map<String, Long> servicePids() {
        Map<String, Long> pids = new LinkedHashMap<>();
        services.forEach((name, p) -> pids.put(name, p.pid()));
        return pids;
    }

    // ---- PostgreSQL ----

    private void startDatabase() throws IOException {
        if (options.pgCluster()) {
            startCluster();
        }
        database = "stack_" + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd_HHmmss")) + "_"
                + HexFormat.of().formatHex(new SecureRandom().generateSeed(3));
        execute("postgres", "CREATE DATABASE " + database);
        databaseProxy = new TcpProxy(POSTGRES_HOST, postgresPort);
        log.info("database {} on {}:{}, hubs connect through proxy port {}", database, POSTGRES_HOST, postgresPort, databaseProxy.port());
    }

    /**
     * A cluster of its own: {@code initdb} + {@code pg_ctl} in {@code runDir/pg}. PostgreSQL refuses
     * to run as root, so as root both run as the {@code postgres} user ({@code runuser}).
     */
    private void startCluster() throws IOException {
        Path bin;
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            bin = versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
                    .max(Path::compareTo).orElseThrow(() -> new IllegalStateException("no /usr/lib/postgresql/*/bin/initdb: apt-get install -y postgresql"));
        }
        // under /tmp, not the run dir: the postgres user must reach it without opening up the run dir's parents
        pgCluster = Files.createTempDirectory("supplyhub-pg");
        Files.writeString(runDir.resolve("pg-cluster.path"), pgCluster + "\n");
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            run(List.of("chown", "-R", "postgres:postgres", pgCluster.toString()), Duration.ofSeconds(10));
        }
        postgresPort = TestInterfaces.freePort();
        Path data = pgCluster.resolve("data");
        run(asPostgres(root, List.of(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres",
                "--auth=trust", "-E", "UTF8", "--no-sync")), Duration.ofMinutes(2));
        run(asPostgres(root, List.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l",
                pgCluster.resolve("postgresql.log").toString(), "-w", "-t", "60", "-o",
                "-p " + postgresPort + " -k " + pgCluster + " -c listen_addresses=127.0.0.1 -c fsync=off", "start")),
                Duration.ofSeconds(90));
        String pid = Files.readAllLines(data.resolve("postmaster.pid")).get(0).trim();
        appendPid("postgres", Long.parseLong(pid));
    }

    private static List<String> asPostgres(boolean root, List<String> command) {
        if (!root) {
            return command;
        }
        List<String> wrapped = new ArrayList<>(List.of("runuser", "-u", "postgres", "--"));
        wrapped.addAll(command);
        return wrapped;
    }

    private void stopCluster() {
        if (pgCluster == null) {
            return;
        }
        Path bin;
        try (Stream<Path> versions = Files.list(Path.of("/usr/lib/postgresql"))) {
            bin = versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("pg_ctl"))).max(Path::compareTo).orElseThrow();
            run(asPostgres("root".equals(System.getProperty("user.name")),
                    List.of(bin.resolve("pg_ctl").toString(), "-D", pgCluster.resolve("data").toString(), "-m", "fast", "-w", "stop")),
                    Duration.ofSeconds(60));
            run(List.of("rm", "-rf", pgCluster.toString()), Duration.ofSeconds(60));
        } catch (IOException | RuntimeException e) {
            log.warn("stopping the PostgreSQL cluster in {} failed: {}", pgCluster, e.toString());
        }
    }

    private void execute(String db, String sql) {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + POSTGRES_HOST + ":" + postgresPort + "/" + db, "postgres", "");
             Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("PostgreSQL at " + POSTGRES_HOST + ":" + postgresPort + " (user postgres): " + sql + ": " + e.getMessage(), e);
        }
    }

    // ---- keys, routes, nodes ----

    private Path writeSigningKey() throws IOException {
        Path dir = Files.createDirectories(runDir.resolve("secrets"));
        Path key = dir.resolve("issuer-key.pem");
        KeyPairGenerator generator;
        try {
            generator = KeyPairGenerator.getInstance("RSA");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        generator.initialize(2048);
        byte[] pkcs8 = generator.generateKeyPair().getPrivate().getEncoded();
        String pem = "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(pkcs8)
                + "\n-----END PRIVATE KEY-----\n";
        Files.deleteIfExists(key);
        Files.createFile(key, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(key, pem);
        return key;
    }

    /** The repository's MLLP interfaces, in file order. */
    @SuppressWarnings("unchecked")
    private void readInterfaces() throws IOException {
        for (Path file : routeFiles()) {
            for (Map<String, Object> item : (List<Map<String, Object>>) readYamlList(file)) {
                Map<String, Object> route = (Map<String, Object>) item.get("templatedRoute");
                if (route != null && isListener(route)) {
                    interfaces.add(parameter(route, "interfaceId"));
                }
            }
        }
    }

    private List<Path> routeFiles() throws IOException {
        try (Stream<Path> files = Files.list(repo.resolve("routes"))) {
            return files.filter(f -> f.getFileName().toString().endsWith(".yaml")).sorted().toList();
        }
    }

    private static List<?> readYamlList(Path file) throws IOException {
        Object doc = new Yaml().load(Files.readString(file));
        return doc instanceof List<?> list ? list : List.of();
    }

    private static boolean isListener(Map<String, Object> route) {
        Object ref = route.get("routeTemplateRef");
        return "hl7-mllp-inbound".equals(ref) || "hl7-mllp-tls-inbound".equals(ref);
    }

    @SuppressWarnings("unchecked")
    private static String parameter(Map<String, Object> route, String name) {
        for (Map<String, Object> p : (List<Map<String, Object>>) route.getOrDefault("parameters", List.of())) {
            if (name.equals(p.get("name"))) {
                return String.valueOf(p.get("value"));
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    private static void setParameter(Map<String, Object> route, String name, String value) {
        for (Map<String, Object> p : (List<Map<String, Object>>) route.getOrDefault("parameters", List.of())) {
            if (name.equals(p.get("name"))) {
                p.put("value", value);
            }
        }
    }

    /**
     * The node's routes: the repository's files with each MLLP port replaced by one of the node's
     * own; with receivers, the destinations from {@code ops/routes/destinations.yaml} instead of the
     * files' file destinations; without, the file destinations write under {@code runDir/out}.
     */
    @SuppressWarnings("unchecked")
    private Map<String, Integer> writeRoutes(Path routes) throws IOException {
        Files.createDirectories(routes);
        Map<String, Integer> ports = new LinkedHashMap<>();
        Set<String> named = new LinkedHashSet<>();
        DumperOptions dump = new DumperOptions();
        dump.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        for (Path file : routeFiles()) {
            boolean destinationsFile = file.getFileName().toString().equals("destinations.yaml");
            if (destinationsFile && options.receivers() != null) {
                continue;
            }
            List<Object> kept = new ArrayList<>();
            for (Map<String, Object> item : (List<Map<String, Object>>) readYamlList(file)) {
                Map<String, Object> route = (Map<String, Object>) item.get("templatedRoute");
                if (route != null && "outbox-delivery".equals(route.get("routeTemplateRef"))) {
                    if (options.receivers() != null) {
                        continue;
                    }
                    String dir = parameter(route, "directory");
                    if (dir != null && !Path.of(dir).isAbsolute()) {
                        setParameter(route, "directory", runDir.resolve(dir.replaceFirst("^data/", "")).toString());
                    }
                } else if (route != null && isListener(route)) {
                    int port = TestInterfaces.freePort();
                    String id = parameter(route, "interfaceId");
                    setParameter(route, "port", Integer.toString(port));
                    ports.put(id, port);
                    String destinations = parameter(route, "destinations");
                    if (destinations != null) {
                        for (String d : destinations.split(",")) {
                            named.add(d.trim());
                        }
                    }
                }
                kept.add(item);
            }
            Files.writeString(routes.resolve(file.getFileName()), "# generated by org.supplyhub.ops.Stack from "
                    + repo.relativize(file) + "\n" + new Yaml(dump).dump(kept));
        }
        if (options.receivers() != null) {
            ReceiverPorts r = options.receivers();
            String template = Files.readString(repo.resolve("ops/routes/destinations.yaml"));
            String text = template.replace("${BILLING_URL}", r.billingUrl()).replace("${INVENTORY_URL}", r.inventoryUrl())
                    .replace("${FHIR_URL}", r.fhirBaseUrl());
            Set<String> declared = new LinkedHashSet<>();
            for (Map<String, Object> item : (List<Map<String, Object>>) new Yaml().load(text)) {
                declared.add(parameter((Map<String, Object>) item.get("templatedRoute"), "destination"));
            }
            named.removeAll(declared);
            if (!named.isEmpty()) {
                throw new IllegalStateException("ops/routes/destinations.yaml does not declare " + named
                        + ", which the repository's interfaces deliver to: add them there");
            }
            Files.writeString(routes.resolve("destinations.yaml"), "# generated by org.supplyhub.ops.Stack from ops/routes/destinations.yaml\n" + text);
        }
        return ports;
    }

    /**
     * One journal KEK and one audit signing key pair per stack run, given to every node: nodes on one
     * PostgreSQL must share them (the hub generates keys only for an H2 journal, and refuses to start without).
     */
    private void writeDataKeys() throws IOException {
        Path dir = Files.createDirectories(runDir.resolve("secrets"));
        byte[] kek = new byte[32];
        new java.security.SecureRandom().nextBytes(kek);
        org.supplyhub.journal.crypto.OwnerOnlyFiles.createNew(dir.resolve("journal-kek"),
                (Base64.getEncoder().encodeToString(kek) + "\n").getBytes(StandardCharsets.US_ASCII));
        org.supplyhub.audit.SigningKeys.generateIfMissing(dir.resolve("audit-signing-key.pem"));
        Files.createDirectories(runDir.resolve("checkpoints"));
    }

    private HubNode prepareNode(int index, Path key) throws IOException {
        Path dir = Files.createDirectories(runDir.resolve("hub" + (index + 1)));
        Path routes = dir.resolve("routes");
        Map<String, Integer> ports = writeRoutes(routes);
        routesDirs.add(routes);
        int port = TestInterfaces.freePort();
        Map<String, String> env = new LinkedHashMap<>();
        env.put("SERVER_PORT", Integer.toString(port));
        env.put("SPRING_DATASOURCE_URL", "jdbc:postgresql://127.0.0.1:" + databaseProxy.port() + "/" + database);
        env.put("SPRING_DATASOURCE_USERNAME", "postgres");
        env.put("SPRING_DATASOURCE_PASSWORD", "");
        env.put("HUB_ROUTES_DIR", routes.toString());
        env.put("HUB_MAPPINGS_DIR", repo.resolve("mappings").toString());
        // HAProxy adds X-Forwarded-For: audit and token throttling see the sender, not the balancer
        env.put("SERVER_FORWARD_HEADERS_STRATEGY", "native");
        // the stack's shared data keys (writeDataKeys) and one checkpoint store for all nodes
        env.put("HUB_JOURNAL_ENCRYPTION_KEY", "file:" + runDir.resolve("secrets/journal-kek"));
        env.put("HUB_AUDIT_SIGNING_KEY", "file:" + runDir.resolve("secrets/audit-signing-key.pem"));
        env.put("HUB_AUDIT_CHECKPOINT_EXPORT", "file:" + runDir.resolve("checkpoints"));
        if (options.keycloak()) {
            env.put("SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_ISSUER_URI", keycloakIssuer().toString());
        } else {
            // one key and one iss on every node: a token from either node is valid on both
            env.put("HUB_SECURITY_SIGNING_KEY", "file:" + key);
            env.put("HUB_SECURITY_ISSUER", httpBase().toString());
        }
        env.putAll(options.hubEnv());
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                // a modest heap (the benchmark's 69 MB used of 512 MB); the serial collector: few threads on a small host
                "-Xmx384m", "-XX:+UseSerialGC"));
        if (options.hubJar() != null) {
            command.addAll(List.of("-jar", options.hubJar().toAbsolutePath().toString()));
        } else {
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), "org.supplyhub.SupplyHubApplication"));
        }
        HubNode[] self = new HubNode[1];
        self[0] = new HubNode(index, command, env, dir, logs.resolve("hub" + (index + 1) + ".log"), port, ports,
                () -> appendPid("hub" + (index + 1), self[0].pid()));
        return self[0];
    }

    // ---- HAProxy ----

    static String haproxyBinary() {
        for (String candidate : List.of("/usr/sbin/haproxy", "/usr/local/sbin/haproxy", "/usr/bin/haproxy")) {
            if (Files.isExecutable(Path.of(candidate))) {
                return candidate;
            }
        }
        throw new IllegalStateException("HAProxy is not installed: apt-get install -y haproxy");
    }

    /** The file's two servers per backend, adjusted to the node count: hub2's lines copied for hub3…, dropped for one node. */
    static String haproxyConfig(String file, int nodes) {
        StringBuilder out = new StringBuilder();
        for (String line : file.split("\n", -1)) {
            boolean hub2Server = line.trim().startsWith("server hub2 ");
            if (!hub2Server) {
                out.append(line).append('\n');
                continue;
            }
            for (int n = 2; n <= nodes; n++) {
                out.append(line.replace("hub2", "hub" + n).replace("HUB2_", "HUB" + n + "_")).append('\n');
            }
        }
        return out.toString().stripTrailing() + "\n";
    }

    private void startHaproxy(String binary) throws IOException {
        Path cfg = runDir.resolve("haproxy.cfg");
        Files.writeString(cfg, "# generated by org.supplyhub.ops.Stack from ops/haproxy/haproxy.cfg for " + nodes.size() + " node(s)\n"
                + haproxyConfig(Files.readString(repo.resolve("ops/haproxy/haproxy.cfg")), nodes.size()));
        Map<String, String> env = new LinkedHashMap<>();
        env.put("HAPROXY_BIND", "127.0.0.1");
        env.put("HAPROXY_HTTP_PORT", Integer.toString(httpPort));
        env.put("HAPROXY_STATS_PORT", Integer.toString(statsPort));
        frontendPorts.forEach((id, port) -> env.put("HAPROXY_" + envName(id) + "_PORT", Integer.toString(port)));
        for (HubNode node : nodes) {
            String prefix = "HUB" + (node.index() + 1) + "_";
            env.put(prefix + "HOST", "127.0.0.1");
            env.put(prefix + "HTTP_PORT", Integer.toString(node.httpPort()));
            node.mllpPorts().forEach((id, port) -> env.put(prefix + envName(id) + "_PORT", Integer.toString(port)));
        }
        Files.writeString(runDir.resolve("haproxy.env"), env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue() + "\n")
                .reduce("", String::concat));
        ProcessBuilder check = new ProcessBuilder(binary, "-c", "-q", "-f", cfg.toString()).redirectErrorStream(true);
        check.environment().putAll(env);
        Process checking = check.start();
        String problems = new String(checking.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (checking.waitFor() != 0) {
                throw new IllegalStateException("HAProxy refuses " + cfg + ": " + problems.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        // -db: stay in the foreground (the stack owns the process); -W master mode is not needed
        ProcessBuilder builder = new ProcessBuilder(binary, "-db", "-f", cfg.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve("haproxy.log").toFile()));
        builder.environment().putAll(env);
        startService("haproxy", builder);
    }

    static String envName(String interfaceId) {
        return interfaceId.toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** HAProxy has marked the nodes up: a readiness request through it gets 200 from each. */
    private void awaitThroughBalancer(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                HttpResponse<String> stats = HTTP.send(HttpRequest.newBuilder(URI.create(statsPage() + ";csv")).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                long up = stats.body().lines().filter(l -> l.startsWith("hub_http,hub") && l.contains(",UP,")).count();
                if (up == nodes.size()) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("HAProxy did not mark the nodes up within " + timeout + "; see " + logs.resolve("haproxy.log"));
            }
            sleep(250);
        }
    }

    // ---- Keycloak ----

    private void startKeycloak() throws IOException {
        Path home = Path.of(run(List.of("bash", repo.resolve("ops/lib/keycloak.sh").toString(), "home"), Duration.ofMinutes(10)).strip()
                .lines().reduce((a, b) -> b).orElseThrow());
        keycloakPort = TestInterfaces.freePort();
        Path imports = Files.createDirectories(home.resolve("data/import"));
        Files.copy(repo.resolve("ops/keycloak/supply-hub-realm.json"), imports.resolve("supply-hub-realm.json"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        StringBuilder secretsFile = new StringBuilder();
        Map<String, String> env = new LinkedHashMap<>();
        for (String client : DEMO_SECRETS.keySet().stream().sorted().toList()) {
            String secret = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
            clientSecrets.put(client, secret);
            String var = envName(client) + "_SECRET";
            env.put(var, secret);
            secretsFile.append(var).append('=').append(secret).append('\n');
        }
        Path secrets = runDir.resolve("secrets/keycloak-clients.env");
        Files.deleteIfExists(secrets);
        Files.createFile(secrets, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(secrets, secretsFile);
        env.put("JAVA_HOME", KEYCLOAK_JAVA_HOME);
        String adminPassword = HexFormat.of().formatHex(new SecureRandom().generateSeed(12));
        env.put("KC_BOOTSTRAP_ADMIN_USERNAME", "admin");
        env.put("KC_BOOTSTRAP_ADMIN_PASSWORD", adminPassword);
        Files.writeString(secrets, "KC_BOOTSTRAP_ADMIN_PASSWORD=" + adminPassword + "\n", java.nio.file.StandardOpenOption.APPEND);
        env.put("JAVA_OPTS_APPEND", "-Xmx512m");
        // dev-mem: a fresh in-memory database per run, so the realm is imported on every start
        ProcessBuilder builder = new ProcessBuilder(home.resolve("bin/kc.sh").toString(), "start-dev",
                "--http-port=" + keycloakPort, "--http-host=127.0.0.1", "--db=dev-mem", "--import-realm",
                // its management interface (default 9000) on a free port too: two runs, or compose, may hold 9000
                "--http-management-port=" + TestInterfaces.freePort(), "--hostname-strict=false")
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(logs.resolve("keycloak.log").toFile()));
        builder.environment().putAll(env);
        long started = System.nanoTime();
        Process kc = startService("keycloak", builder);
        URI discovery = URI.create(keycloakIssuer() + "/.well-known/openid-configuration");
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (true) {
            if (!kc.isAlive()) {
                throw new IllegalStateException("Keycloak exited (" + kc.exitValue() + "); see " + logs.resolve("keycloak.log"));
            }
            try {
                if (HTTP.send(HttpRequest.newBuilder(discovery).GET().build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    break;
                }
            } catch (IOException e) {
                // starting
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Keycloak not up within 5 minutes; see " + logs.resolve("keycloak.log"));
            }
            sleep(500);
        }
        log.info("Keycloak up in {} s at {}", Duration.ofNanos(System.nanoTime() - started).toSeconds(), keycloakIssuer());
    }

    // ---- processes ----

    private Process startService(String name, ProcessBuilder builder) throws IOException {
        Process p = builder.start();
        services.put(name, p);
        appendPid(name, p.pid());
        return p;
    }

    private synchronized void appendPid(String name, long pid) {
        try {
            Files.writeString(runDir.resolve("pids"), name + " " + pid + "\n", StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a command to its end; its output (stdout and stderr) is returned, or thrown with a non-zero status. */
    static String run(List<String> command, Duration timeout) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + ": no end within " + timeout);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        String text = new String(out, StandardCharsets.UTF_8);
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + text.strip());
        }
        return text;
    }

    private static void awaitPort(int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("nothing listens on " + port + " after " + timeout);
                }
                sleep(200);
            }
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void stopProcess(Process p, Duration grace) {
        if (p == null || !p.isAlive()) {
            return;
        }
        List<ProcessHandle> children = p.descendants().toList();
        p.destroy();
        children.forEach(ProcessHandle::destroy);
        try {
            if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stops what it started: HAProxy, the nodes (gracefully, in parallel), Keycloak, the proxy, the database. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopProcess(services.get("haproxy"), Duration.ofSeconds(5));
        List<Thread> stopping = new ArrayList<>();
        for (HubNode n : nodes) {
            Thread t = new Thread(n::stop, "stop-" + n.name());
            t.start();
            stopping.add(t);
        }
        for (Thread t : stopping) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        stopProcess(services.get("keycloak"), Duration.ofSeconds(20));
        if (databaseProxy != null) {
            try {
                databaseProxy.close();
            } catch (IOException e) {
                log.warn("closing the database proxy: {}", e.toString());
            }
        }
        if (database != null && !Boolean.getBoolean("stack.keepDatabase")) {
            try {
                execute("postgres", "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            } catch (RuntimeException e) {
                log.warn("dropping database {}: {}", database, e.getMessage());
            }
        }
        stopCluster();
    }
}
