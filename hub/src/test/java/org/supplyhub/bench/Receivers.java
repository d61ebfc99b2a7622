package org.supplyhub.bench;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.HL7Service;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.protocol.ReceivingApplication;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.util.idgenerator.InMemoryIDGenerator;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import com.sun.net.httpserver.HttpServer;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The end-to-end benchmark's three receivers, in a JVM of their own so that /proc tells their CPU
 * apart from the hub's and the load generator's: billing (a HAPI HL7v2 MLLP server that ACKs AA),
 * inventory (HTTP, JSON bodies) and a HAPI FHIR {@link RestfulServer} on Tomcat that processes
 * transactions with conditional creates (as {@code support/FhirTestServer}). Each counts what it got
 * and what it got twice: billing by MSH-10, inventory by the Idempotency-Key header, FHIR by the
 * set of conditional-create identifiers of a bundle (messages are unique, so an identical set is
 * the same message again). {@code GET /counts} on the inventory port answers the counts.
 *
 * <pre>Receivers &lt;billingPort&gt; &lt;inventoryPort&gt; &lt;fhirPort&gt;</pre>
 */
public final class Receivers {

    static final Set<String> billingIds = ConcurrentHashMap.newKeySet();
    static final AtomicLong billingReceived = new AtomicLong();
    static final Set<String> inventoryKeys = ConcurrentHashMap.newKeySet();
    static final AtomicLong inventoryReceived = new AtomicLong();
    static final Set<String> fhirBundles = ConcurrentHashMap.newKeySet();
    static final AtomicLong fhirTransactions = new AtomicLong();
    static final Map<String, Boolean> fhirStored = new ConcurrentHashMap<>();

    public static void main(String[] args) throws Exception {
        int billingPort = Integer.parseInt(args[0]);
        int inventoryPort = Integer.parseInt(args[1]);
        int fhirPort = Integer.parseInt(args[2]);

        HapiContext hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
        hapi.getParserConfiguration().setIdGenerator(new InMemoryIDGenerator()); // not HAPI's id_file in the working directory
        HL7Service billing = hapi.newServer(billingPort, false);
        billing.registerApplication("*", "*", new ReceivingApplication<Message>() {
            @Override
            public Message processMessage(Message message, Map<String, Object> metadata) {
                try {
                    billingReceived.incrementAndGet();
                    billingIds.add(new Terser(message).get("/MSH-10"));
                    return message.generateACK(AcknowledgmentCode.AA, null);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public boolean canProcess(Message message) {
                return true;
            }
        });
        billing.startAndWait();

        HttpServer inventory = HttpServer.create(new InetSocketAddress("127.0.0.1", inventoryPort), 64);
        inventory.setExecutor(Executors.newFixedThreadPool(8));
        inventory.createContext("/stock", exchange -> {
            exchange.getRequestBody().readAllBytes();
            inventoryReceived.incrementAndGet();
            String key = exchange.getRequestHeaders().getFirst("Idempotency-Key");
            inventoryKeys.add(key == null ? UUID.randomUUID().toString() : key);
            exchange.sendResponseHeaders(201, -1);
            exchange.close();
        });
        inventory.createContext("/counts", exchange -> {
            byte[] body = counts().getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        inventory.start();

        Tomcat tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("bench-fhir-tomcat").toString());
        tomcat.setPort(fhirPort);
        RestfulServer server = new RestfulServer(FhirContext.forR4Cached());
        server.registerProvider(new TransactionProvider());
        Context context = tomcat.addContext("", null);
        Tomcat.addServlet(context, "fhir", server);
        context.addServletMappingDecoded("/fhir/*", "fhir");
        tomcat.getConnector();
        tomcat.start();
        System.out.println("READY billing " + billingPort + " inventory " + inventoryPort + " fhir " + fhirPort);
        Thread.currentThread().join();
    }

    /** key=value lines: received, distinct and duplicates per receiver. */
    static String counts() {
        long billing = billingReceived.get();
        long inventory = inventoryReceived.get();
        long fhir = fhirTransactions.get();
        return "billing.received=" + billing + "\nbilling.duplicates=" + (billing - billingIds.size())
                + "\ninventory.received=" + inventory + "\ninventory.duplicates=" + (inventory - inventoryKeys.size())
                + "\nfhir.transactions=" + fhir + "\nfhir.duplicates=" + (fhir - fhirBundles.size())
                + "\nfhir.stored=" + fhirStored.size() + "\n";
    }

    public static class TransactionProvider {
        @Transaction
        public Bundle transaction(@TransactionParam Bundle request) {
            fhirTransactions.incrementAndGet();
            Bundle response = new Bundle().setType(Bundle.BundleType.TRANSACTIONRESPONSE);
            List<String> conditions = new ArrayList<>();
            for (Bundle.BundleEntryComponent entry : request.getEntry()) {
                Resource resource = entry.getResource();
                String condition = entry.getRequest().getIfNoneExist();
                String key = resource.fhirType() + "|" + (condition == null ? UUID.randomUUID() : condition);
                conditions.add(key);
                boolean created = fhirStored.putIfAbsent(key, Boolean.TRUE) == null;
                response.addEntry().getResponse().setStatus(created ? "201 Created" : "200 OK");
            }
            conditions.sort(null);
            fhirBundles.add(String.join(" ", conditions));
            return response;
        }
    }

    static Map<String, Long> parse(String counts) {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        for (String line : counts.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                out.put(line.substring(0, eq), Long.parseLong(line.substring(eq + 1).trim()));
            }
        }
        return out;
    }
}
