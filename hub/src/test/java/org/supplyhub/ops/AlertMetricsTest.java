package org.supplyhub.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.autoconfigure.actuate.observability.AutoConfigureObservability;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.Await;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every metric the alert rules (ops/prometheus/alerts.yml) and the Grafana dashboard
 * (ops/grafana/dashboards) query is one this hub really exposes, with the labels they use: a real
 * hub takes a message over HTTP and delivers it, then its {@code /actuator/prometheus} is read with
 * a {@code metrics:read} token, as Prometheus reads it. A renamed meter fails here, not silently in
 * production (an alert on a series that does not exist never fires).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureObservability // Prometheus is off in tests unless asked for
@DirtiesContext
class AlertMetricsTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    /** Series Prometheus makes itself for every scrape, not the hub's. */
    static final Set<String> PROMETHEUS_OWN = Set.of("up");
    static final Pattern SELECTOR = Pattern.compile("\\b(hub_[a-z0-9_]+)(\\{([^}]*)})?");
    static final Pattern BY = Pattern.compile("\\b(?:by|without)\\s*\\(([^)]*)\\)");
    static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)");

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.h2().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    @LocalServerPort
    int port;

    final HttpClient http = HttpClient.newHttpClient();

    @Test
    void everyQueriedMetricIsExposedWithItsLabels() throws Exception {
        String mercy = Samples.withControlId(Samples.read(Samples.MERCY), "ALERTS-1");
        HttpResponse<String> ack = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/hl7/mercy-or"))
                .header("Authorization", "Bearer " + Tokens.sample(port, Tokens.MERCY, "ingest:mercy-or"))
                .header("Content-Type", "application/hl7-v2")
                .POST(HttpRequest.BodyPublishers.ofString(mercy)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ack.body()).contains("MSA|AA|ALERTS-1");
        // counters are made on first use: wait for the deliveries, so every hub meter has a series
        Await.until(() -> scrape().containsKey("hub_deliveries_total"), 30);
        Map<String, Set<String>> exposed = scrape();
        // the direct writers' fallbacks to HAPI are exported, by reason and output, and none was taken
        assertThat(exposed).containsEntry("hub_ack_fallbacks_total", Set.of("reason"))
                .containsEntry("hub_render_fallbacks_total", Set.of("output"));
        assertThat(fallbacks()).as("fallback counters").isNotEmpty().allMatch(v -> v == 0.0);

        Map<String, String> queries = new LinkedHashMap<>();
        JsonNode rules = new ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                .readTree(TestInterfaces.projectRoot().resolve("ops/prometheus/alerts.yml").toFile());
        for (JsonNode group : rules.get("groups")) {
            for (JsonNode rule : group.get("rules")) {
                queries.put("alert " + rule.get("alert").asText(), rule.get("expr").asText());
            }
        }
        try (var dashboards = Files.list(TestInterfaces.projectRoot().resolve("ops/grafana/dashboards"))) {
            for (var file : dashboards.filter(f -> f.toString().endsWith(".json")).toList()) {
                for (JsonNode panel : new ObjectMapper().readTree(file.toFile()).get("panels")) {
                    for (JsonNode target : panel.path("targets")) {
                        queries.put(file.getFileName() + " / " + panel.get("title").asText(), target.get("expr").asText());
                    }
                }
            }
        }

        List<String> problems = new ArrayList<>();
        Set<String> queried = new TreeSet<>();
        queries.forEach((where, expr) -> {
            Set<String> labelsHere = new TreeSet<>(Set.of("le", "instance", "job"));
            Matcher s = SELECTOR.matcher(expr);
            while (s.find()) {
                String metric = s.group(1);
                queried.add(metric);
                Set<String> labels = exposed.get(metric);
                if (labels == null) {
                    problems.add(where + ": " + metric + " is not exposed by the hub");
                    continue;
                }
                labelsHere.addAll(labels);
                if (s.group(3) != null) {
                    Matcher l = LABEL.matcher(s.group(3));
                    while (l.find()) {
                        if (!labels.contains(l.group(1)) && !l.group(1).equals("job")) {
                            problems.add(where + ": " + metric + " has no label " + l.group(1) + " (it has " + labels + ")");
                        }
                    }
                }
            }
            Matcher by = BY.matcher(expr);
            while (by.find()) {
                for (String label : by.group(1).split("\\s*,\\s*")) {
                    if (!label.isBlank() && !labelsHere.contains(label.strip())) {
                        problems.add(where + ": grouped by " + label.strip() + ", which its metrics do not carry");
                    }
                }
            }
            Matcher other = Pattern.compile("\\b([a-z_]+)\\{").matcher(expr);
            while (other.find()) {
                if (!other.group(1).startsWith("hub_") && !PROMETHEUS_OWN.contains(other.group(1))) {
                    problems.add(where + ": " + other.group(1) + " is neither the hub's nor Prometheus' own");
                }
            }
        });
        assertThat(problems).isEmpty();
        // the issue's alerts: backlog age, dead rows, AR and AE rates
        assertThat(queried).contains("hub_outbox_oldest_seconds", "hub_outbox_dead", "hub_messages_total",
                "hub_deliveries_total", "hub_intake_seconds_bucket");
        assertThat(String.join("\n", queries.values())).contains("ack=\"AR\"", "ack=\"AE\"");
    }

    /** The values of every ACK and render fallback counter's samples. */
    List<Double> fallbacks() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/actuator/prometheus"))
                .header("Authorization", "Bearer " + Tokens.sample(port, Tokens.ADMIN, "metrics:read")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        return r.body().lines().filter(l -> l.startsWith("hub_ack_fallbacks_total{") || l.startsWith("hub_render_fallbacks_total{"))
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).toList();
    }

    /** Sample name → label names, from the Prometheus text format (one line per sample). */
    Map<String, Set<String>> scrape() {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + port + "/actuator/prometheus"))
                    .header("Authorization", "Bearer " + Tokens.sample(port, Tokens.ADMIN, "metrics:read")).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            Map<String, Set<String>> samples = new HashMap<>();
            for (String line : r.body().split("\n")) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int brace = line.indexOf('{');
                int space = line.indexOf(' ');
                String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
                Set<String> labels = samples.computeIfAbsent(name, n -> new TreeSet<>());
                if (brace >= 0 && brace < space) {
                    Matcher l = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"").matcher(line.substring(brace, line.lastIndexOf('}')));
                    while (l.find()) {
                        labels.add(l.group(1));
                    }
                }
            }
            return samples;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
