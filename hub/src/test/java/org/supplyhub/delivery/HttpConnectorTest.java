package org.supplyhub.delivery;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.supplyhub.config.ConnectorKind;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.support.TestInterfaces;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/**
 * The HTTP and FHIR connectors against a real HTTP server (the JDK's): what goes on the wire, how
 * each status is taken, and that sends share one kept-alive connection (the server sees every request
 * come from the same client port) even when the answer has a body the hub does not use.
 */
class HttpConnectorTest {

    private HttpServer server;
    private final AtomicInteger status = new AtomicInteger(201);
    private final List<Map<String, String>> requests = new CopyOnWriteArrayList<>();
    private final Set<Integer> clientPorts = ConcurrentHashMap.newKeySet();
    private final HttpConnector http = new HttpConnector(null);
    private final FhirConnector fhir = new FhirConnector(http, null);

    @BeforeEach
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 16);
        server.createContext("/", exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            clientPorts.add(exchange.getRemoteAddress().getPort());
            Map<String, String> seen = new ConcurrentHashMap<>();
            exchange.getRequestHeaders().forEach((name, values) -> seen.put(name.toLowerCase(), String.join(",", values)));
            seen.put(":body", new String(body, StandardCharsets.UTF_8));
            seen.put(":path", exchange.getRequestURI().getPath());
            requests.add(seen);
            int code = status.get();
            if (code == 302) {
                exchange.getResponseHeaders().add("Location", "/elsewhere");
            }
            byte[] answer = "{\"resourceType\":\"Bundle\",\"type\":\"transaction-response\"}".getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(code, answer.length);
            exchange.getResponseBody().write(answer);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        http.close();
        server.stop(0);
    }

    private DestinationDefinition destination(ConnectorKind kind, DestinationDefinition.Output output) {
        return new DestinationDefinition("d-" + kind, "test", kind, output, null,
                URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/in"), java.time.Duration.ofSeconds(5),
                DestinationDefinition.Format.JSON, 5, java.time.Duration.ofDays(1), java.time.Duration.ofSeconds(1),
                java.time.Duration.ofMinutes(1), java.time.Duration.ofSeconds(1), java.time.Duration.ofMinutes(1), 10, null,
                false, null);
    }

    private static Connector.Payload payload(String key, String body, String type) {
        return new Connector.Payload(key, 1, type, "json", body.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void postsTheBodyWithItsKeyOverOneKeptAliveConnection() throws Exception {
        DestinationDefinition d = destination(ConnectorKind.HTTP, DestinationDefinition.Output.STOCK);
        for (int i = 0; i < 20; i++) {
            assertThat(http.send(d, payload("inv-" + i, "{\"n\":" + i + "}", "application/json"))).isEqualTo("201");
        }
        assertThat(requests).hasSize(20);
        assertThat(requests.get(7)).containsEntry(":body", "{\"n\":7}").containsEntry("idempotency-key", "inv-7")
                .containsEntry("content-type", "application/json").containsEntry(":path", "/in")
                .doesNotContainKey("authorization").doesNotContainKey("accept-encoding");
        assertThat(clientPorts).hasSize(1);
    }

    @Test
    void takesEachStatusAsTheOutboxExpects() throws Exception {
        DestinationDefinition d = destination(ConnectorKind.HTTP, DestinationDefinition.Output.STOCK);
        status.set(409);
        assertThat(http.send(d, payload("k", "{}", "application/json"))).isEqualTo("409");
        for (int code : new int[] {408, 429, 500, 503}) {
            status.set(code);
            DeliveryException e = catchThrowableOfType(DeliveryException.class,
                    () -> http.send(d, payload("k", "{}", "application/json")));
            assertThat(e.permanent()).as("HTTP %d is retried", code).isFalse();
            assertThat(e.code()).isEqualTo(String.valueOf(code));
        }
        for (int code : new int[] {400, 401, 404, 302}) {
            status.set(code);
            DeliveryException e = catchThrowableOfType(DeliveryException.class,
                    () -> http.send(d, payload("k", "{}", "application/json")));
            assertThat(e.permanent()).as("HTTP %d is dead", code).isTrue();
            assertThat(e.getMessage()).isEqualTo("HTTP " + code + " from 127.0.0.1");
        }
        assertThat(requests).extracting(r -> r.get(":path")).containsOnly("/in"); // the redirect was not followed
        assertThat(clientPorts).hasSize(1);
    }

    /**
     * The receiver answers with a status and then breaks its body off (promises 100 bytes, sends 10 and
     * closes): the status stands. A 201 whose body breaks off was still taken by the receiver, and sending
     * it again would be a second copy; a 400 is still dead.
     */
    @Test
    void aStatusStandsWhenItsBodyBreaksOff() throws Exception {
        for (int code : new int[] {201, 400}) {
            try (java.net.ServerSocket raw = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                Thread receiver = new Thread(() -> {
                    try (java.net.Socket s = raw.accept()) {
                        java.io.InputStream in = s.getInputStream();
                        String head = "";
                        while (!head.endsWith("\r\n\r\n")) {
                            head += (char) in.read();
                        }
                        int length = Integer.parseInt(head.lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                                .findFirst().orElseThrow().substring(15).trim());
                        in.readNBytes(length);
                        s.getOutputStream().write(("HTTP/1.1 " + code + " X\r\nContent-Type: application/json\r\n"
                                + "Content-Length: 100\r\n\r\n{\"partial\"").getBytes(StandardCharsets.US_ASCII));
                        s.getOutputStream().flush();
                    } catch (java.io.IOException e) {
                        // the test's assertions tell
                    }
                });
                receiver.start();
                DestinationDefinition listening = destination(ConnectorKind.HTTP, DestinationDefinition.Output.STOCK);
                DestinationDefinition d = new DestinationDefinition(listening.name() + code, listening.file(),
                        listening.connector(), listening.output(), null,
                        URI.create("http://127.0.0.1:" + raw.getLocalPort() + "/in"), listening.timeout(),
                        listening.format(), listening.maxAttempts(), listening.maxAge(), listening.initialBackoff(),
                        listening.maxBackoff(), listening.pollInterval(), listening.lease(), listening.batchSize(), null,
                        false, null);
                if (code == 201) {
                    assertThat(http.send(d, payload("k", "{}", "application/json"))).isEqualTo("201");
                } else {
                    DeliveryException e = catchThrowableOfType(DeliveryException.class,
                            () -> http.send(d, payload("k", "{}", "application/json")));
                    assertThat(e.permanent()).isTrue();
                    assertThat(e.code()).isEqualTo("400");
                }
                receiver.join(5_000);
            }
        }
    }

    @Test
    void noAnswerIsRetried() throws Exception {
        DestinationDefinition listening = destination(ConnectorKind.HTTP, DestinationDefinition.Output.STOCK);
        DestinationDefinition d = new DestinationDefinition(listening.name(), listening.file(), listening.connector(),
                listening.output(), null, URI.create("http://127.0.0.1:" + TestInterfaces.freePort() + "/in"),
                listening.timeout(), listening.format(), listening.maxAttempts(), listening.maxAge(),
                listening.initialBackoff(), listening.maxBackoff(), listening.pollInterval(), listening.lease(),
                listening.batchSize(), null, false, null); // nothing listens there
        DeliveryException e = catchThrowableOfType(DeliveryException.class,
                () -> http.send(d, payload("k", "{}", "application/json")));
        assertThat(e.permanent()).isFalse();
        assertThat(e.code()).isEqualTo("IO");
        assertThat(e.getMessage()).startsWith("no answer from 127.0.0.1: ");
    }

    @Test
    void fhirPostsTheBundleAsFhirJsonAndTakes2xxOnly() throws Exception {
        DestinationDefinition d = destination(ConnectorKind.FHIR, DestinationDefinition.Output.FHIR);
        status.set(200);
        for (int i = 0; i < 5; i++) {
            assertThat(fhir.send(d, payload("fhir-" + i, "{\"resourceType\":\"Bundle\"}", "application/fhir+json")))
                    .isEqualTo("200");
        }
        assertThat(requests.get(0)).containsEntry(":body", "{\"resourceType\":\"Bundle\"}")
                .containsEntry("content-type", "application/fhir+json; charset=UTF-8")
                .containsEntry("accept", "application/fhir+json").containsEntry("prefer", "return=minimal");
        assertThat(clientPorts).hasSize(1); // the answer's body was read, so the connection went back to the pool
        status.set(409); // a FHIR server's conflict is not "already have it"
        assertThat(catchThrowableOfType(DeliveryException.class,
                () -> fhir.send(d, payload("fhir-x", "{}", "application/fhir+json"))).permanent()).isTrue();
        status.set(500);
        assertThat(catchThrowableOfType(DeliveryException.class,
                () -> fhir.send(d, payload("fhir-x", "{}", "application/fhir+json"))).permanent()).isFalse();
    }
}
