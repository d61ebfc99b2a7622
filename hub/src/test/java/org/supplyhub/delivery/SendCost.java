package org.supplyhub.delivery;

import com.sun.net.httpserver.HttpServer;
import org.supplyhub.config.ConnectorKind;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.ingest.MessageTranslator;
import org.supplyhub.mapping.FhirConfiguration;
import org.supplyhub.mapping.FhirRenderer;
import org.supplyhub.mapping.RenderSpec;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.support.CpuCases;
import org.supplyhub.support.FhirTestServer;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import ca.uhn.fhir.rest.client.api.IRestfulClientFactory;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.util.Timeout;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.client.HttpComponentsClientHttpRequestFactory;
import org.springframework.web.client.RestClient;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;

/**
 * A measuring tool, not a test: the CPU of the sending thread per message for a FHIR send (Bundle of
 * the Mercy sample's 7 resources + POST to a real HAPI RestfulServer) and an inventory send (stock
 * JSON + POST to a JDK HttpServer), as the delivery worker's sender does them. The receivers run in
 * this JVM on other threads; only the sender's thread CPU is counted (CpuCases). Also prints how many
 * TCP connections each receiver accepted, to show the client keeps them alive.
 *
 * <pre>java -cp hub/target/test-classes:hub/target/classes:$(deps) org.supplyhub.delivery.SendCost [messages] [rounds] [warm-up rounds]</pre>
 */
public final class SendCost {

    private SendCost() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 2_000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 7;
        int warmup = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        InterfaceDefinition iface = InterfaceCatalog.load(interfaces.routesDir, interfaces.mappingsDir).get("mercy-or");
        MessageTranslator.Accepted a = (MessageTranslator.Accepted) new MessageTranslator(new Hl7Support())
                .translate(iface, Samples.read(Samples.MERCY).getBytes(StandardCharsets.UTF_8), null);
        SupplyUsage usage = a.usage();
        RenderSpec spec = a.render();
        var fhir = FhirConfiguration.newContext();
        FhirRenderer renderer = new FhirRenderer(fhir, RenderCostBenchmark.JSON);
        Payloads payloads = new Payloads(new Hl7Support(), RenderCostBenchmark.JSON);
        List<String> resources = renderer.json(usage, spec);

        HttpServer inventory = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
        inventory.setExecutor(Executors.newFixedThreadPool(2));
        inventory.createContext("/stock", exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.sendResponseHeaders(201, -1);
            exchange.close();
        });
        inventory.start();
        try (FhirTestServer fhirServer = new FhirTestServer()) {
            DestinationDefinition fhirDest = destination("fhir-server", ConnectorKind.FHIR, DestinationDefinition.Output.FHIR,
                    URI.create(fhirServer.baseUrl()));
            DestinationDefinition stockDest = destination("mercy-inventory", ConnectorKind.HTTP, DestinationDefinition.Output.STOCK,
                    URI.create("http://127.0.0.1:" + inventory.getAddress().getPort() + "/stock"));
            HttpConnector http = new HttpConnector(null);
            FhirConnector fhirConnector = new FhirConnector(http, null);
            long[] id = {1};
            List<CpuCases.Case> cases = new ArrayList<>();
            cases.add(new CpuCases.Case("fhir: Bundle of 7 before", () -> Before.transaction(resources).length));
            cases.add(new CpuCases.Case("fhir: Bundle of 7", () -> payloads.transaction(resources).length));
            Before before = new Before(fhir);
            cases.add(new CpuCases.Case("fhir: Bundle + send before (HAPI client)", () -> {
                long m = id[0]++;
                Connector.Payload p = new Connector.Payload(fhirDest.name() + "-" + m, m, "application/fhir+json", "json",
                        Before.transaction(resources));
                return before.fhir(fhirDest, p).length();
            }));
            cases.add(new CpuCases.Case("inventory: stock JSON + send before (RestClient)", () -> {
                long m = id[0]++;
                Connector.Payload p = payloads.render(stockDest, m, m, usage, resources);
                return before.http(stockDest, p).length();
            }));
            cases.add(new CpuCases.Case("fhir: Bundle + send", () -> {
                long m = id[0]++;
                Connector.Payload p = payloads.render(fhirDest, m, m, usage, resources);
                return fhirConnector.send(fhirDest, p).length();
            }));
            cases.add(new CpuCases.Case("inventory: stock JSON", () -> payloads.stockJson(usage).length));
            cases.add(new CpuCases.Case("inventory: stock JSON + send", () -> {
                long m = id[0]++;
                Connector.Payload p = payloads.render(stockDest, m, m, usage, resources);
                return http.send(stockDest, p).length();
            }));
            if (System.getProperty("send.cases") != null) { // only these (comma-separated names), for a profile or an A/B run
                List<String> only = List.of(System.getProperty("send.cases").split(","));
                cases.removeIf(c -> !only.contains(c.name()));
            }
            System.out.printf("Send cost: Mercy sample, %d sends a round, %d rounds after %d warm-up rounds%n", n, rounds, warmup);
            CpuCases.printMedians(cases, n, rounds, warmup);
            var threads = java.lang.management.ManagementFactory.getThreadMXBean();
            for (CpuCases.Case c : cases) { // how much of it is the kernel's (loopback TCP is processed on the sender's CPU)
                long cpu0 = threads.getCurrentThreadCpuTime();
                long user0 = threads.getCurrentThreadUserTime();
                for (int i = 0; i < n; i++) {
                    c.work().run();
                }
                System.out.printf("%-50s total %6.1f µs, user %6.1f µs%n", c.name(), (threads.getCurrentThreadCpuTime() - cpu0) / 1e3 / n,
                        (threads.getCurrentThreadUserTime() - user0) / 1e3 / n);
            }
            System.out.printf("TIME_WAIT sockets (one per closed connection, for a minute): fhir %d, inventory %d%n",
                    timeWait(URI.create(fhirServer.baseUrl()).getPort()), timeWait(inventory.getAddress().getPort()));
            http.close();
        } finally {
            inventory.stop(0);
        }
        System.exit(0);
    }

    /** The connectors as they were before round three: HAPI's generic client, Spring's RestClient. */
    static final class Before {
        private final FhirContext fhir;
        private final Map<String, IGenericClient> fhirClients = new ConcurrentHashMap<>();
        private final Map<String, RestClient> restClients = new ConcurrentHashMap<>();

        Before(FhirContext fhir) {
            this.fhir = fhir;
        }

        String fhir(DestinationDefinition d, Connector.Payload payload) {
            IGenericClient client = fhirClients.computeIfAbsent(d.name(), name -> {
                FhirContext own = FhirContext.forVersion(fhir.getVersion().getVersion());
                own.setParserOptions(fhir.getParserOptions());
                IRestfulClientFactory factory = own.getRestfulClientFactory();
                factory.setServerValidationMode(fhir.getRestfulClientFactory().getServerValidationMode());
                factory.setSocketTimeout((int) d.timeout().toMillis());
                factory.setConnectTimeout((int) d.timeout().toMillis());
                factory.setConnectionRequestTimeout((int) d.timeout().toMillis());
                return own.newRestfulGenericClient(d.url().toString());
            });
            client.transaction().withBundle(new String(payload.body(), StandardCharsets.UTF_8)).execute();
            return "200";
        }

        /** Payloads.transaction before: the resources as Strings, scanned by a char parser and written raw from chars. */
        static byte[] transaction(List<String> resources) throws IOException {
            ByteArrayOutputStream out = new ByteArrayOutputStream(resources.size() * 2048);
            try (JsonGenerator g = RenderCostBenchmark.JSON.getFactory().createGenerator(out)) {
                g.writeStartObject();
                g.writeStringField("resourceType", "Bundle");
                g.writeStringField("type", "transaction");
                g.writeArrayFieldStart("entry");
                for (String text : resources) {
                    Payloads.Head r = head(text);
                    g.writeStartObject();
                    g.writeStringField("fullUrl", "urn:uuid:" + r.id());
                    g.writeFieldName("resource");
                    g.writeRawValue(text);
                    g.writeObjectFieldStart("request");
                    g.writeStringField("method", "POST");
                    g.writeStringField("url", r.type());
                    if (r.identifierValue() != null) {
                        g.writeStringField("ifNoneExist", FhirConnector.identifierCondition(r.identifierSystem(),
                                r.identifierValue()));
                    }
                    g.writeEndObject();
                    g.writeEndObject();
                }
                g.writeEndArray();
                g.writeEndObject();
            }
            return out.toByteArray();
        }


        /** The resource's top-level resourceType, id and first identifier; every other value is skipped unread. */
        static Payloads.Head head(String resource) throws IOException {
            String type = "";
            String id = "";
            String system = "";
            String value = null;
            boolean identifierRead = false;
            try (JsonParser p = RenderCostBenchmark.JSON.getFactory().createParser(resource)) {
                if (p.nextToken() != JsonToken.START_OBJECT) {
                    throw new JsonParseException(p, "a resource is a JSON object");
                }
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    JsonToken token = p.nextToken();
                    switch (name) {
                        case "resourceType" -> type = scalar(p, token, "");
                        case "id" -> id = scalar(p, token, "");
                        case "identifier" -> {
                            identifierRead = true;
                            if (token == JsonToken.START_ARRAY && p.nextToken() == JsonToken.START_OBJECT) {
                                while (p.nextToken() == JsonToken.FIELD_NAME) {
                                    String field = p.currentName();
                                    JsonToken v = p.nextToken();
                                    if ("system".equals(field)) {
                                        system = scalar(p, v, "");
                                    } else if ("value".equals(field)) {
                                        value = scalar(p, v, null);
                                    } else {
                                        p.skipChildren();
                                    }
                                }
                                while (p.nextToken() != JsonToken.END_ARRAY) { // the other identifiers
                                    p.skipChildren();
                                }
                            } else {
                                p.skipChildren();
                            }
                        }
                        default -> p.skipChildren();
                    }
                    if (identifierRead && !type.isEmpty() && !id.isEmpty()) {
                        break; // HAPI writes these first: the rest of the resource is not looked at
                    }
                }
            }
            return new Payloads.Head(type, id, system, value);
        }

        /** A scalar's text (as Jackson's asText gives it), or {@code absent} for null, an object or an array. */

        private static String scalar(JsonParser p, JsonToken token, String absent) throws IOException {
            if (token == JsonToken.START_OBJECT || token == JsonToken.START_ARRAY) {
                p.skipChildren();
                return absent;
            }
            return token == JsonToken.VALUE_NULL ? absent : p.getText();
        }

        String http(DestinationDefinition d, Connector.Payload payload) {
            RestClient client = restClients.computeIfAbsent(d.name(), name -> {
                Timeout timeout = Timeout.of(d.timeout());
                PoolingHttpClientConnectionManager pool = PoolingHttpClientConnectionManagerBuilder.create()
                        .setMaxConnPerRoute(32).setMaxConnTotal(32)
                        .setDefaultConnectionConfig(ConnectionConfig.custom().setConnectTimeout(timeout)
                                .setSocketTimeout(timeout).build())
                        .build();
                CloseableHttpClient http = HttpClients.custom().setConnectionManager(pool)
                        .setDefaultRequestConfig(RequestConfig.custom().setResponseTimeout(timeout)
                                .setConnectionRequestTimeout(timeout).build())
                        .disableAutomaticRetries().disableRedirectHandling().build();
                return RestClient.builder().requestFactory(new HttpComponentsClientHttpRequestFactory(http)).build();
            });
            String bearer = null;
            HttpStatusCode status = client.post().uri(d.url())
                    .contentType(MediaType.parseMediaType(payload.contentType()))
                    .header("Idempotency-Key", payload.idempotencyKey())
                    .headers(h -> {
                        if (bearer != null) {
                            h.setBearerAuth(bearer);
                        }
                    })
                    .body(payload.body())
                    .exchange((request, response) -> response.getStatusCode());
            return String.valueOf(status.value());
        }
    }

    static DestinationDefinition destination(String name, ConnectorKind kind, DestinationDefinition.Output output, URI url) {
        return new DestinationDefinition(name, "probe", kind, output, null, url, Duration.ofSeconds(10),
                DestinationDefinition.Format.JSON, 10, Duration.ofDays(1), Duration.ofSeconds(1), Duration.ofMinutes(1),
                Duration.ofMillis(100), Duration.ofMinutes(5), 100, null, false, null);
    }

    /** Sockets in TIME_WAIT (state 06 in /proc/net/tcp): a client that opens a connection per request leaves one each. */
    static long timeWait(int port) throws Exception {
        String hex = ":" + String.format("%04X", port);
        long count = 0;
        for (String f : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path p = Path.of(f);
            if (Files.exists(p)) {
                count += Files.readAllLines(p).stream().skip(1).map(l -> l.trim().split("\\s+"))
                        .filter(c -> c[3].equals("06") && (c[1].endsWith(hex) || c[2].endsWith(hex))).count();
            }
        }
        return count;
    }
}
