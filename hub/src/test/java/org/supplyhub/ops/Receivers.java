package org.supplyhub.ops;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.util.UrlUtil;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Identifier;
import org.supplyhub.support.FhirTestServer;
import org.hl7.fhir.r4.model.Resource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Three real receivers in one JVM, each keeping a {@link Ledger} of what it applied, as the systems
 * they stand for would:
 * <ul>
 *   <li><b>billing</b> — an MLLP listener taking the hub's DFT^P03; dedupes on MSH-10 (the DFT's
 *   control id: the hub keeps it on every retry) and applies each FT1 as a charge keyed by FT1-6 +
 *   FT1-2 (kind and transaction id); answers AA.</li>
 *   <li><b>inventory</b> — an HTTP JSON receiver; dedupes on {@code Idempotency-Key} and applies each
 *   stock movement keyed by its transaction id; answers 201.</li>
 *   <li><b>fhir</b> — a HAPI {@link RestfulServer} processing transactions with conditional creates,
 *   assigning its own ids, so a resource created twice with one identifier (a create that was not
 *   conditional, or a condition that did not match) shows as a duplicate.</li>
 * </ul>
 * Each listens behind a {@link Gate} on its public port: {@code down()} closes the listening socket
 * (connections refused) and every open connection; {@code slow(d)} answers each send d late, after
 * applying it (the window in which a sender times out and resends).
 * <p>
 * Standalone: {@code Receivers --billing P --inventory P --fhir P [--control P]} prints its ledger
 * at {@code GET http://127.0.0.1:<control>/ledger} (JSON) and takes
 * {@code POST /control/<billing|inventory|fhir>/<down|up|normal|slow?ms=N>}.
 */
public final class Receivers implements AutoCloseable {

    /** One receiver: its ledger and its controls. */
    public abstract static class Receiver implements AutoCloseable {
        final Ledger ledger;
        final Gate gate;
        volatile long delayMillis;

        Receiver(String name, int publicPort) {
            this.ledger = new Ledger(name);
            this.gate = new Gate(name, publicPort);
        }

        public Ledger ledger() {
            return ledger;
        }

        public int port() {
            return gate.port;
        }

        public void down() {
            gate.down();
        }

        public void up() {
            gate.up();
        }

        public void slow(Duration delay) {
            delayMillis = delay.toMillis();
        }

        public void normal() {
            delayMillis = 0;
        }

        void pause() {
            long d = delayMillis;
            if (d > 0) {
                try {
                    Thread.sleep(d);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        @Override
        public void close() throws Exception {
            gate.close();
        }
    }

    private final Billing billing;
    private final Inventory inventory;
    private final Fhir fhir;

    private Receivers(ReceiverPorts ports) throws Exception {
        billing = new Billing(ports.billingMllp());
        inventory = new Inventory(ports.inventoryHttp());
        fhir = new Fhir(ports.fhirHttp());
    }

    public static Receivers start(ReceiverPorts ports) throws Exception {
        return new Receivers(ports);
    }

    public Receiver billing() {
        return billing;
    }

    public Receiver inventory() {
        return inventory;
    }

    public Receiver fhir() {
        return fhir;
    }

    public List<Receiver> all() {
        return List.of(billing, inventory, fhir);
    }

    public Receiver byName(String name) {
        return all().stream().filter(r -> r.ledger.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no receiver " + name));
    }

    public String ledgerJson() {
        return "[" + String.join(",", all().stream().map(r -> r.ledger.json()).toList()) + "]";
    }

    @Override
    public void close() throws Exception {
        for (Receiver r : all()) {
            r.close();
        }
    }

    // ---------------------------------------------------------------- billing (MLLP)

    static final class Billing extends Receiver {
        private static final DateTimeFormatter TS = DateTimeFormatter.ofPattern("yyyyMMddHHmmss");
        private final ServerSocket server;

        Billing(int port) throws IOException {
            super("billing", port);
            server = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
            daemon("billing-accept", this::acceptLoop);
            gate.open(server.getLocalPort());
        }

        private void acceptLoop() {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    daemon("billing-conn", () -> serve(s));
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void serve(Socket s) {
            try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                String message;
                while ((message = readFrame(in)) != null) {
                    String ack = handle(message);
                    pause();
                    byte[] a = ack.getBytes(StandardCharsets.UTF_8);
                    byte[] framed = new byte[a.length + 3];
                    framed[0] = 0x0b;
                    System.arraycopy(a, 0, framed, 1, a.length);
                    framed[framed.length - 2] = 0x1c;
                    framed[framed.length - 1] = 0x0d;
                    out.write(framed);
                    out.flush();
                }
            } catch (IOException e) {
                // the hub (or the gate) closed the connection
            }
        }

        /** Commits the charges (or recognises the control id) and returns the ACK to send. */
        String handle(String message) {
            String[] segments = message.split("[\r\n]+");
            String[] msh = segments[0].split("\\|", -1);
            String controlId = msh.length > 9 ? msh[9] : "";
            synchronized (this) { // one commit at a time: the dedupe check and the charges are one transaction
                if (ledger.firstSend(controlId)) {
                    for (String segment : segments) {
                        if (segment.startsWith("FT1|")) {
                            String[] ft1 = segment.split("\\|", -1);
                            ledger.apply("charge|" + field(ft1, 6) + "|" + field(ft1, 2));
                        }
                    }
                }
            }
            return "MSH|^~\\&|PATACCT|MERCY|SUPPLYHUB|HUB|" + LocalDateTime.now().format(TS) + "||ACK^P03^ACK|A"
                    + controlId + "|P|2.5.1\rMSA|AA|" + controlId + "\r";
        }

        private static String field(String[] fields, int n) {
            return n < fields.length ? fields[n].split("\\^", -1)[0] : "";
        }

        private static String readFrame(InputStream in) throws IOException {
            int b;
            while ((b = in.read()) != 0x0b) {
                if (b < 0) {
                    return null;
                }
            }
            ByteArrayOutputStream payload = new ByteArrayOutputStream();
            while ((b = in.read()) >= 0) {
                if (b == 0x1c) {
                    in.read(); // CR
                    return payload.toString(StandardCharsets.UTF_8);
                }
                payload.write(b);
            }
            return null;
        }

        @Override
        public void close() throws Exception {
            super.close();
            server.close();
        }
    }

    // ---------------------------------------------------------------- inventory (HTTP JSON)

    static final class Inventory extends Receiver {
        private static final ObjectMapper JSON = new ObjectMapper();
        private final HttpServer server;

        Inventory(int port) throws IOException {
            super("inventory", port);
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 200);
            server.setExecutor(Executors.newFixedThreadPool(64, r -> thread("inventory-http", r)));
            server.createContext("/", this::handle);
            server.start();
            gate.open(server.getAddress().getPort());
        }

        private void handle(HttpExchange exchange) throws IOException {
            try (exchange) {
                byte[] body = exchange.getRequestBody().readAllBytes();
                String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
                if (!"POST".equals(exchange.getRequestMethod()) || key == null) {
                    exchange.sendResponseHeaders(400, -1);
                    return;
                }
                JsonNode doc;
                try {
                    doc = JSON.readTree(body);
                } catch (IOException e) {
                    exchange.sendResponseHeaders(400, -1);
                    return;
                }
                synchronized (this) {
                    if (ledger.firstSend(key)) {
                        for (JsonNode m : doc.path("movements")) {
                            ledger.apply("movement|" + m.path("transactionId").asText());
                        }
                    }
                }
                pause();
                exchange.sendResponseHeaders(201, -1);
            }
        }

        @Override
        public void close() throws Exception {
            super.close();
            server.stop(0);
        }
    }

    // ---------------------------------------------------------------- FHIR server

    static final class Fhir extends Receiver {
        private final Tomcat tomcat;
        /** type|system|value → the ids the server assigned: more than one is a duplicate resource. */
        final Map<String, List<Long>> byIdentifier = new HashMap<>();
        private final AtomicLong nextId = new AtomicLong(1);

        Fhir(int port) throws Exception {
            super("fhir", port);
            tomcat = new Tomcat();
            tomcat.setBaseDir(Files.createTempDirectory("receivers-fhir").toString());
            tomcat.setPort(0);
            tomcat.setHostname("127.0.0.1");
            RestfulServer server = new RestfulServer(FhirContext.forR4Cached());
            server.registerProvider(new TransactionProvider());
            Context context = tomcat.addContext("", null);
            Tomcat.addServlet(context, "fhir", server);
            context.addServletMappingDecoded("/fhir/*", "fhir");
            tomcat.getConnector();
            tomcat.start();
            gate.open(tomcat.getConnector().getLocalPort());
        }

        public class TransactionProvider {
            @Transaction
            public Bundle transaction(@TransactionParam Bundle request) {
                Bundle response = new Bundle().setType(Bundle.BundleType.TRANSACTIONRESPONSE);
                boolean createdAny = false;
                synchronized (Fhir.this) { // a transaction is atomic and isolated, as on a JPA server
                    for (Bundle.BundleEntryComponent entry : request.getEntry()) {
                        Resource resource = entry.getResource();
                        Identifier own = resource instanceof DomainResource r ? FhirTestServer.identifierOf(r) : null;
                        String key = resource.fhirType() + "|"
                                + (own == null ? "(none)" : own.getSystem() + "|" + own.getValue());
                        String condition = entry.getRequest().getIfNoneExist();
                        List<Long> ids = byIdentifier.computeIfAbsent(key, k -> new ArrayList<>());
                        if (condition != null && !ids.isEmpty() && matches(condition, own)) {
                            response.addEntry().getResponse().setStatus("200 OK")
                                    .setLocation(resource.fhirType() + "/" + ids.get(0));
                            continue;
                        }
                        if (condition != null && !matches(condition, own)) {
                            throw new InvalidRequestException("Failed to process conditional create. The supplied"
                                    + " resource did not satisfy the conditional URL: " + condition);
                        }
                        long id = nextId.getAndIncrement();
                        ids.add(id);
                        ledger.apply(key);
                        createdAny = true;
                        response.addEntry().getResponse().setStatus("201 Created")
                                .setLocation(resource.fhirType() + "/" + id);
                    }
                    ledger.send(!createdAny);
                }
                pause();
                return response;
            }
        }

        private static boolean matches(String condition, Identifier own) {
            String[] identifier = UrlUtil.parseQueryString(condition).get("identifier");
            if (identifier == null || identifier.length != 1 || own == null) {
                return false;
            }
            TokenParam token = new TokenParam();
            token.setValueAsQueryToken(FhirContext.forR4Cached(), "identifier", null, identifier[0]);
            return token.getSystem().equals(own.getSystem()) && token.getValue().equals(own.getValue());
        }

        @Override
        public void close() throws Exception {
            super.close();
            tomcat.stop();
            tomcat.destroy();
        }
    }

    // ---------------------------------------------------------------- the gate

    /**
     * The receiver's public port: a TCP relay to the receiver's own socket that can be taken down
     * (listening socket closed, every connection cut) and brought back on the same port.
     */
    static final class Gate implements AutoCloseable {
        private final String name;
        private final int port;
        private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
        private volatile int target;
        private volatile ServerSocket server;

        Gate(String name, int port) {
            this.name = name;
            this.port = port;
        }

        void open(int targetPort) {
            this.target = targetPort;
            up();
        }

        synchronized void up() {
            if (server != null) {
                return;
            }
            try {
                ServerSocket s = new ServerSocket();
                s.setReuseAddress(true);
                s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 200);
                server = s;
                daemon(name + "-gate", () -> acceptLoop(s));
            } catch (IOException e) {
                throw new IllegalStateException(name + " cannot listen on " + port + ": " + e.getMessage(), e);
            }
        }

        synchronized void down() {
            ServerSocket s = server;
            server = null;
            if (s != null) {
                closeQuietly(s);
            }
            sockets.forEach(Gate::closeQuietly);
            sockets.clear();
        }

        private void acceptLoop(ServerSocket s) {
            while (!s.isClosed()) {
                try {
                    Socket client = s.accept();
                    Socket backend = new Socket(InetAddress.getLoopbackAddress(), target);
                    client.setTcpNoDelay(true);
                    backend.setTcpNoDelay(true);
                    sockets.add(client);
                    sockets.add(backend);
                    if (server != s) { // went down meanwhile
                        closeQuietly(client);
                        closeQuietly(backend);
                        continue;
                    }
                    daemon(name + "-pump", () -> pump(client, backend));
                    daemon(name + "-pump", () -> pump(backend, client));
                } catch (IOException e) {
                    // closed by down(), or the backend refused: the client's connection is gone
                }
            }
        }

        private void pump(Socket from, Socket to) {
            byte[] buffer = new byte[16384];
            try {
                InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream();
                int n;
                while ((n = in.read(buffer)) > 0) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // one side went away
            } finally {
                closeQuietly(from);
                closeQuietly(to);
                sockets.remove(from);
                sockets.remove(to);
            }
        }

        private static void closeQuietly(AutoCloseable c) {
            try {
                c.close();
            } catch (Exception ignored) {
                // already closed
            }
        }

        @Override
        public void close() {
            down();
        }
    }

    static Thread thread(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    static void daemon(String name, Runnable r) {
        thread(name, r).start();
    }

    // ---------------------------------------------------------------- standalone

    public static void main(String[] args) throws Exception {
        Map<String, Integer> ports = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            ports.put(args[i].replaceFirst("^--", ""), Integer.parseInt(args[i + 1]));
        }
        if (!ports.keySet().containsAll(List.of("billing", "inventory", "fhir"))) {
            System.err.println("usage: Receivers --billing PORT --inventory PORT --fhir PORT [--control PORT]");
            System.exit(2);
        }
        Receivers receivers = start(new ReceiverPorts(ports.get("billing"), ports.get("inventory"), ports.get("fhir")));
        int controlPort = ports.getOrDefault("control", 0);
        HttpServer control = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), controlPort), 10);
        control.createContext("/ledger", exchange -> reply(exchange, 200, receivers.ledgerJson()));
        control.createContext("/control/", exchange -> {
            String[] path = exchange.getRequestURI().getPath().split("/"); // "", control, name, action
            String query = exchange.getRequestURI().getQuery();
            try {
                Receiver r = receivers.byName(path[2]);
                switch (path[3]) {
                    case "down" -> r.down();
                    case "up" -> r.up();
                    case "normal" -> r.normal();
                    case "slow" -> r.slow(Duration.ofMillis(Long.parseLong(query.replaceFirst("^ms=", ""))));
                    default -> throw new IllegalArgumentException("unknown action " + path[3]);
                }
                reply(exchange, 200, r.ledger().json());
            } catch (RuntimeException e) {
                reply(exchange, 400, "{\"error\":\"" + e.getClass().getSimpleName() + "\"}");
            }
        });
        control.start();
        System.out.printf("receivers: billing mllp %d, inventory http %d, fhir http %d/fhir; ledger http://127.0.0.1:%d/ledger%n",
                receivers.billing.port(), receivers.inventory.port(), receivers.fhir.port(), control.getAddress().getPort());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> System.out.println("ledger " + receivers.ledgerJson())));
        Thread.currentThread().join();
    }

    private static void reply(HttpExchange exchange, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, body.length);
        try (exchange; OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
