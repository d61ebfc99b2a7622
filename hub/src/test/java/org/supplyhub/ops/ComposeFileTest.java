package org.supplyhub.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.supplyhub.support.TestInterfaces;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * The compose topology (docker-compose.yml, Dockerfile, ops/) checked without a Docker engine: the
 * file passes {@code docker-compose config}, Prometheus' files pass {@code promtool}, HAProxy's file
 * passes {@code haproxy -c} with the environment compose gives it; and what matters beyond syntax —
 * the hubs run as non-root with a health check, no secret is written in the compose file, the issuer
 * the hubs expect is the one Keycloak puts in its tokens, and the balancer's ports are the
 * interfaces' ports. A missing tool fails the test when {@code CI} is set and skips it otherwise.
 * The alert rules' metric names are checked against a running hub by {@link AlertMetricsTest}.
 */
class ComposeFileTest {

    static final Path ROOT = TestInterfaces.projectRoot();
    static final Path COMPOSE = ROOT.resolve("docker-compose.yml");
    static final List<String> HUBS = List.of("hub1", "hub2");

    static Map<String, Object> compose;

    @BeforeAll
    static void load() throws IOException {
        compose = yaml(COMPOSE);
    }

    @Test
    void composeFileIsValid() throws Exception {
        require("docker-compose", "Debian package docker-compose");
        // the examples stand in for the real secrets, which are never in the repository
        Result r = run(Map.of("HUB_SECRETS_DIR", "./ops/compose/secrets.example"),
                "docker-compose", "-f", COMPOSE.toString(), "config", "-q");
        assertThat(r.exit()).as("docker-compose config -q: %s", r.output()).isZero();
    }

    @Test
    void prometheusFilesAreValid() throws Exception {
        require("promtool", "Debian package prometheus");
        Result config = run(Map.of(), "promtool", "check", "config", "ops/prometheus/prometheus.yml");
        assertThat(config.exit()).as("promtool check config: %s", config.output()).isZero();
        Result rules = run(Map.of(), "promtool", "check", "rules", "ops/prometheus/alerts.yml");
        assertThat(rules.exit()).as("promtool check rules: %s", rules.output()).isZero();
    }

    @Test
    void haproxyFileIsValidWithTheEnvironmentComposeGivesIt() throws Exception {
        require("haproxy", "Debian package haproxy");
        Path cfg = ROOT.resolve("ops/haproxy/haproxy.cfg");
        requireFile(cfg, "ops/haproxy/haproxy.cfg (from the stack branch)");
        Map<String, String> env = environment(service("haproxy"));

        // every variable the file reads is set by compose (HAProxy would bind ":" or "hub1:" silently)
        Set<String> used = new TreeSet<>();
        String config = Files.readString(cfg).replaceAll("(?m)(^|\\s)#.*$", "");  // comments name ${VAR} too
        Matcher m = Pattern.compile("\\$\\{([A-Z0-9_]+)}").matcher(config);
        while (m.find()) {
            used.add(m.group(1));
        }
        assertThat(env.keySet()).as("variables ops/haproxy/haproxy.cfg reads").containsAll(used);

        // The node names resolve only on the compose network; haproxy -c resolves every server address,
        // so they stand for 127.0.0.1 here. Everything else is exactly what compose passes.
        Map<String, String> local = new LinkedHashMap<>(env);
        for (String hub : HUBS) {
            String key = hub.toUpperCase() + "_HOST";
            assertThat(local.get(key)).as(key).isEqualTo(hub);
            local.put(key, "127.0.0.1");
        }
        Result r = run(local, "haproxy", "-c", "-f", cfg.toString());
        assertThat(r.exit()).as("haproxy -c: %s", r.output()).isZero();
    }

    @Test
    void hubsRunAsNonRootFromTheImageAndHaveHealthChecks() throws IOException {
        String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
        String runtime = dockerfile.substring(dockerfile.lastIndexOf("\nFROM "));
        assertThat(runtime).as("runtime stage").contains("FROM eclipse-temurin:17-jre");
        assertThat(dockerfile).as("build stage").contains("FROM eclipse-temurin:17-jdk AS build")
                .contains("./mvnw -B -q -pl hub package -DskipTests");
        Matcher user = Pattern.compile("(?m)^USER (\\d+)(?::(\\d+))?\\s*$").matcher(runtime);
        assertThat(user.find()).as("a numeric USER in the runtime stage").isTrue();
        assertThat(Integer.parseInt(user.group(1))).as("uid").isPositive();
        assertThat(runtime).contains("HEALTHCHECK").contains("/actuator/health");

        for (String hub : HUBS) {
            Map<String, Object> s = service(hub);
            assertThat(s).as(hub + " is built from the Dockerfile").containsKey("build");
            Object userOverride = s.get("user");
            assertThat(userOverride == null || !String.valueOf(userOverride).matches("(root|0)(:.*)?"))
                    .as(hub + " must not run as root").isTrue();
            Map<String, Object> health = map(s.get("healthcheck"));
            assertThat(health).as(hub + " healthcheck").isNotNull();
            assertThat(String.join(" ", strings(health.get("test")))).contains("/actuator/health");
            Map<String, String> env = environment(s);
            assertThat(env).as(hub).containsEntry("SPRING_PROFILES_ACTIVE", "prod")
                    .containsEntry("HUB_SECURITY_AUDIENCE", "supply-hub")
                    .containsEntry("HUB_MLLP_HOST", "0.0.0.0");
        }
    }

    /**
     * Both nodes share one PostgreSQL, so they must share the journal's KEK and the audit signing key
     * (a node with keys of its own cannot read the other's data keys, and its checkpoints would be
     * untrusted): each hub reads the same compose secrets at the same paths, and the checkpoints they
     * sign go to one volume.
     */
    @Test
    void bothHubsGetTheSameKeyFiles() {
        Map<String, String> secretTargets = null;
        Set<String> checkpointVolumes = new TreeSet<>();
        for (String hub : HUBS) {
            Map<String, Object> s = service(hub);
            Map<String, String> targets = new LinkedHashMap<>();
            for (Object item : list(s.get("secrets"))) {
                if (item instanceof Map<?, ?> m) {
                    targets.put(String.valueOf(m.get("target")), String.valueOf(m.get("source")));
                }
            }
            assertThat(targets).as(hub + " key secrets").containsEntry("journal-kek", "journal_kek")
                    .containsEntry("audit-signing-key.pem", "audit_signing_key")
                    .containsEntry("audit-signing-key.pub.pem", "audit_signing_key_pub");
            Map<String, String> env = environment(s);
            assertThat(env).as(hub).containsEntry("HUB_JOURNAL_ENCRYPTION_KEY", "file:/run/secrets/journal-kek")
                    .containsEntry("HUB_AUDIT_SIGNING_KEY", "file:/run/secrets/audit-signing-key.pem");
            String export = env.get("HUB_AUDIT_CHECKPOINT_EXPORT");
            assertThat(export).as(hub + " checkpoint export").startsWith("file:");
            String exportDir = export.substring("file:".length());
            List<String> onVolume = strings(s.get("volumes")).stream()
                    .filter(v -> v.endsWith(":" + exportDir) && !v.startsWith(".")).toList();
            assertThat(onVolume).as(hub + ": the checkpoint export is on a named volume").hasSize(1);
            checkpointVolumes.add(onVolume.get(0));
            if (secretTargets == null) {
                secretTargets = targets;
            } else {
                assertThat(targets).as("hub2's secrets are hub1's").isEqualTo(secretTargets);
            }
        }
        assertThat(checkpointVolumes).as("one checkpoint store for both nodes").hasSize(1);
        assertThat(map(compose.get("volumes"))).containsKey(checkpointVolumes.iterator().next().split(":")[0]);
        Map<String, Object> secrets = map(compose.get("secrets"));
        assertThat(secrets).containsKeys("journal_kek", "audit_signing_key", "audit_signing_key_pub");
    }

    /**
     * The classic Keycloak mismatch: the hubs must expect exactly the {@code iss} Keycloak writes,
     * which is its fixed public URL (KC_HOSTNAME) — not the in-network address they fetch keys from.
     */
    @Test
    void hubsExpectTheIssuerKeycloakWrites() {
        Map<String, String> kc = environment(service("keycloak"));
        String publicUrl = kc.get("KC_HOSTNAME");
        assertThat(publicUrl).as("KC_HOSTNAME, a full URL").matches("\\$\\{KEYCLOAK_PUBLIC_URL:-http://localhost:\\d+}");
        assertThat(strings(service("keycloak").get("command"))).contains("start", "--import-realm");
        for (String hub : HUBS) {
            Map<String, String> env = environment(service(hub));
            assertThat(env.get("SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_ISSUER_URI")).as(hub)
                    .isEqualTo(publicUrl + "/realms/supply-hub");
            assertThat(env.get("SPRING_SECURITY_OAUTH2_RESOURCESERVER_JWT_JWK_SET_URI")).as(hub)
                    .startsWith("http://keycloak:8080/realms/supply-hub/");
        }
        // the published Keycloak port is the one in its public URL's default
        String port = publicUrl.replaceAll(".*:(\\d+)}$", "$1");
        assertThat(strings(service("keycloak").get("ports"))).anyMatch(p -> p.contains(":-" + port + "}:8080"));
    }

    @Test
    void noSecretValueIsWrittenInTheComposeFile() throws IOException {
        Pattern secretish = Pattern.compile("(?i).*(PASSWORD|SECRET|TOKEN|PRIVATE|CREDENTIAL|_KEY$).*");
        List<String> literal = new ArrayList<>();
        Map<String, Object> services = map(compose.get("services"));
        for (Map.Entry<String, Object> e : services.entrySet()) {
            environment(map(e.getValue())).forEach((k, v) -> {
                boolean fromFile = k.endsWith("_FILE") || v.startsWith("/run/secrets/") || v.startsWith("file:/run/secrets/");
                if (secretish.matcher(k).matches() && !fromFile) {
                    literal.add(e.getKey() + ": " + k);
                }
            });
        }
        assertThat(literal).as("secret-looking variables with a value instead of a file").isEmpty();

        // every secret is a file under HUB_SECRETS_DIR, and the examples name exactly those files
        Map<String, Object> secrets = map(compose.get("secrets"));
        Set<String> files = new TreeSet<>();
        for (Map.Entry<String, Object> e : secrets.entrySet()) {
            String file = String.valueOf(map(e.getValue()).get("file"));
            assertThat(file).as("secret " + e.getKey()).isEqualTo("${HUB_SECRETS_DIR:-./ops/compose/secrets}/" + e.getKey());
            files.add(e.getKey());
        }
        try (Stream<Path> examples = Files.list(ROOT.resolve("ops/compose/secrets.example"))) {
            Set<String> names = examples.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
            assertThat(names).isEqualTo(files);
        }
        // and no example value (nor anything else from those files) found its way into the compose file
        String text = Files.readString(COMPOSE);
        for (String name : files) {
            String value = Files.readString(ROOT.resolve("ops/compose/secrets.example").resolve(name)).strip();
            assertThat(text).doesNotContain(value);
        }
        assertThat(Files.readString(ROOT.resolve(".gitignore"))).contains("ops/compose/secrets/");
        assertThat(Files.readString(ROOT.resolve(".dockerignore"))).contains("ops/compose/secrets/");
    }

    /**
     * Keycloak's realm file fills its client secrets from the variables the entrypoint exports, and
     * the client Prometheus scrapes with exists there, with metrics:read and the hub's audience, and
     * its secret is the very file Prometheus reads.
     */
    @Test
    void realmClientsGetTheirSecretsFromComposeSecrets() throws IOException {
        Path realm = ROOT.resolve("ops/keycloak/supply-hub-realm.json");
        requireFile(realm, "ops/keycloak/supply-hub-realm.json (from the stack branch)");
        String script = Files.readString(ROOT.resolve("ops/compose/keycloak-entrypoint.sh"));
        Map<String, String> exported = new LinkedHashMap<>(); // variable → secret file
        Matcher e = Pattern.compile("(?m)^export ([A-Z0-9_]+)=\"\\$\\(secret ([a-z0-9_]+)\\)\"").matcher(script);
        while (e.find()) {
            exported.put(e.group(1), e.group(2));
        }
        List<String> keycloakSecrets = strings(service("keycloak").get("secrets"));
        assertThat(keycloakSecrets).as("secrets the entrypoint reads").containsAll(exported.values());
        String realmText = Files.readString(realm);
        Matcher p = Pattern.compile("\\$\\{([A-Za-z0-9_.]+)(?::[^}]*)?}").matcher(realmText);
        Set<String> placeholders = new TreeSet<>();
        while (p.find()) {
            placeholders.add(p.group(1));
        }
        assertThat(exported.keySet()).as("placeholders in the realm file").containsAll(placeholders);

        Map<String, Object> oauth2 = map(hubScrapeJob().get("oauth2"));
        JsonNode client = null;
        for (JsonNode c : new ObjectMapper().readTree(realmText).get("clients")) {
            if (c.get("clientId").asText().equals(oauth2.get("client_id"))) {
                client = c;
            }
        }
        assertThat(client).as("realm client " + oauth2.get("client_id") + " (ops/prometheus/prometheus.yml)").isNotNull();
        List<String> scopes = new ArrayList<>();
        client.get("defaultClientScopes").forEach(x -> scopes.add(x.asText()));
        // a metrics-only client: the monitoring system holds no token that reads or replays messages
        assertThat(scopes).containsExactlyInAnyOrder("metrics:read", "supply-hub");
        assertThat(client.get("optionalClientScopes")).as("optional scopes of the scrape client").isEmpty();
        String variable = client.get("secret").asText().replaceAll("^\\$\\{([A-Za-z0-9_]+).*}$", "$1");
        assertThat("/run/secrets/" + exported.get(variable)).as("the secret Prometheus sends is the one Keycloak holds")
                .isEqualTo(oauth2.get("client_secret_file"));
    }

    /** The balancer's MLLP ports are the interfaces' own (routes/*.yaml), on both sides of HAProxy. */
    @Test
    void balancerPortsAreTheInterfacePorts() throws IOException {
        Map<String, String> env = environment(service("haproxy"));
        Pattern port = Pattern.compile("- name: port\\s*\\n\\s*value: \"?(\\d+)\"?");
        int checked = 0;
        try (Stream<Path> files = Files.list(ROOT.resolve("routes"))) {
            for (Path file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                Matcher m = port.matcher(Files.readString(file));
                if (!m.find()) {
                    continue;
                }
                String key = file.getFileName().toString().replace(".yaml", "").replace('-', '_').toUpperCase() + "_PORT";
                assertThat(env).as(file.getFileName().toString())
                        .containsEntry("HAPROXY_" + key, m.group(1))
                        .containsEntry("HUB1_" + key, m.group(1))
                        .containsEntry("HUB2_" + key, m.group(1));
                assertThat(strings(service("haproxy").get("ports"))).contains(m.group(1) + ":" + m.group(1));
                checked++;
            }
        }
        assertThat(checked).as("MLLP interfaces in routes/").isGreaterThanOrEqualTo(4);
    }

    /**
     * Clear HTTP (bearer tokens, PHI) and the login-less stats page are published on 127.0.0.1 unless
     * asked otherwise; the client's own X-Forwarded-For is dropped before HAProxy adds the real one.
     */
    @Test
    void clearHttpAndStatsAreLocalAndForwardedForCannotBeSpoofed() throws IOException {
        List<String> ports = strings(service("haproxy").get("ports"));
        assertThat(ports).anyMatch(p -> p.equals("${HUB_HTTP_BIND:-127.0.0.1}:${HUB_HTTP_PORT:-8080}:8080"));
        assertThat(ports).anyMatch(p -> p.startsWith("127.0.0.1:") && p.endsWith(":8404"));
        String cfg = Files.readString(ROOT.resolve("ops/haproxy/haproxy.cfg"));
        int forwardfor = cfg.indexOf("option forwardfor");
        assertThat(forwardfor).isPositive();
        assertThat(cfg.indexOf("http-request del-header X-Forwarded-For")).isBetween(0, forwardfor);
        assertThat(cfg.indexOf("http-request del-header Forwarded")).isBetween(0, forwardfor);
    }

    /** ops/compose/destinations.yaml replaces routes/destinations.yaml: the same destinations, FHIR to HAPI. */
    @Test
    void composeDestinationsMatchTheShippedOnes() throws IOException {
        Map<String, Map<String, String>> shipped = destinations(ROOT.resolve("routes/destinations.yaml"));
        Map<String, Map<String, String>> mounted = destinations(ROOT.resolve("ops/compose/destinations.yaml"));
        assertThat(mounted.keySet()).isEqualTo(shipped.keySet());
        assertThat(mounted.get("fhir-server")).containsEntry("connector", "fhir")
                .containsEntry("url", "http://fhir:8080/fhir");
        assertThat(service("fhir").get("image").toString()).startsWith("hapiproject/hapi:v");
        for (String hub : HUBS) {
            assertThat(strings(service(hub).get("volumes")))
                    .contains("./routes:/opt/hub/routes:ro",
                            "./ops/compose/destinations.yaml:/opt/hub/routes/destinations.yaml:ro");
        }
    }

    @Test
    void prometheusScrapesBothHubsWithAToken() throws IOException {
        Map<String, Object> hubJob = hubScrapeJob();
        assertThat(hubJob.get("metrics_path")).isEqualTo("/actuator/prometheus");
        Map<String, Object> oauth2 = map(hubJob.get("oauth2"));
        assertThat(strings(oauth2.get("scopes"))).containsExactly("metrics:read");
        assertThat(String.valueOf(oauth2.get("token_url")))
                .isEqualTo("http://keycloak:8080/realms/supply-hub/protocol/openid-connect/token");
        String secretFile = String.valueOf(oauth2.get("client_secret_file"));
        assertThat(secretFile).startsWith("/run/secrets/");
        assertThat(strings(service("prometheus").get("secrets"))).contains(secretFile.substring("/run/secrets/".length()));
        List<String> targets = list(hubJob.get("static_configs")).stream()
                .flatMap(c -> strings(map(c).get("targets")).stream()).toList();
        assertThat(targets).containsExactlyInAnyOrder(HUBS.stream().map(h -> h + ":8080").toArray(String[]::new));
    }

    static Map<String, Object> hubScrapeJob() throws IOException {
        Map<String, Object> prometheus = yaml(ROOT.resolve("ops/prometheus/prometheus.yml"));
        return list(prometheus.get("scrape_configs")).stream().map(ComposeFileTest::map)
                .filter(j -> "supply-hub".equals(j.get("job_name"))).findFirst().orElseThrow();
    }

    // ---- helpers

    record Result(int exit, String output) { }

    static Result run(Map<String, String> env, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(Duration.ofMinutes(1).toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            fail(String.join(" ", command) + " did not finish in a minute");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /** A tool the check needs: in CI its absence is a failure (.ci/run installs it), elsewhere a skip. */
    static void require(String tool, String from) {
        boolean found = Stream.of(System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator))
                .anyMatch(dir -> Files.isExecutable(Path.of(dir, tool)));
        missing(found, tool + " is not installed (" + from + "; .ci/run installs it)");
    }

    static void requireFile(Path file, String what) {
        missing(Files.isRegularFile(file), what + " is missing");
    }

    private static void missing(boolean present, String message) {
        if (present) {
            return;
        }
        if (System.getenv("CI") != null) {
            fail(message + " — in CI this check must run");
        }
        Assumptions.assumeTrue(false, message + " — check skipped (it fails when CI is set)");
    }

    static Map<String, Object> yaml(Path file) throws IOException {
        return new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
    }

    static Map<String, Object> service(String name) {
        Map<String, Object> s = map(map(compose.get("services")).get(name));
        assertThat(s).as("service " + name).isNotNull();
        return s;
    }

    /** A service's environment, as a map whichever of the two compose forms it is written in. */
    static Map<String, String> environment(Map<String, Object> service) {
        Map<String, String> env = new LinkedHashMap<>();
        Object e = service.get("environment");
        if (e instanceof Map<?, ?> m) {
            m.forEach((k, v) -> env.put(String.valueOf(k), v == null ? "" : String.valueOf(v)));
        } else if (e instanceof List<?> l) {
            for (Object item : l) {
                String[] kv = String.valueOf(item).split("=", 2);
                env.put(kv[0], kv.length > 1 ? kv[1] : "");
            }
        }
        return env;
    }

    /** destination name → its parameters, from a routes file. */
    static Map<String, Map<String, String>> destinations(Path file) throws IOException {
        List<Object> routes = new Yaml(new SafeConstructor(new LoaderOptions())).load(Files.readString(file));
        Map<String, Map<String, String>> out = new LinkedHashMap<>();
        for (Object r : routes) {
            Map<String, Object> route = map(map(r).get("templatedRoute"));
            if (!"outbox-delivery".equals(route.get("routeTemplateRef"))) {
                continue;
            }
            Map<String, String> params = new LinkedHashMap<>();
            for (Object p : list(route.get("parameters"))) {
                params.put(String.valueOf(map(p).get("name")), String.valueOf(map(p).get("value")));
            }
            out.put(params.get("destination"), params);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        return o == null ? List.of() : (List<Object>) o;
    }

    static List<String> strings(Object o) {
        if (o == null) {
            return List.of();
        }
        if (o instanceof List<?> l) {
            return l.stream().map(x -> x instanceof Map<?, ?> m ? String.valueOf(m.get("source")) : String.valueOf(x)).toList();
        }
        return List.of(String.valueOf(o));
    }
}
