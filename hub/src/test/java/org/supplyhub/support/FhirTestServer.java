package org.supplyhub.support;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.server.exceptions.InternalErrorException;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

import java.nio.file.Files;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HAPI {@link RestfulServer} on embedded Tomcat that keeps resources in memory and processes
 * transactions with conditional creates ({@code ifNoneExist: identifier=system|value}), like a FHIR
 * server would. It can be told to fail the next transactions with 500.
 */
public final class FhirTestServer implements AutoCloseable {

    /** type|system|value → the stored resource. */
    public final Map<String, Resource> stored = new ConcurrentHashMap<>();
    public final AtomicInteger transactions = new AtomicInteger();
    public final AtomicInteger failNext = new AtomicInteger();
    private final Tomcat tomcat;
    private final int port;

    public FhirTestServer() throws Exception {
        port = TestInterfaces.freePort();
        tomcat = new Tomcat();
        tomcat.setBaseDir(Files.createTempDirectory("fhir-tomcat").toString());
        tomcat.setPort(port);
        RestfulServer server = new RestfulServer(FhirContext.forR4Cached());
        server.registerProvider(new TransactionProvider());
        Context context = tomcat.addContext("", null);
        Tomcat.addServlet(context, "fhir", server);
        context.addServletMappingDecoded("/fhir/*", "fhir");
        tomcat.getConnector();
        tomcat.start();
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + port + "/fhir";
    }

    public class TransactionProvider {
        @Transaction
        public Bundle transaction(@TransactionParam Bundle request) {
            transactions.incrementAndGet();
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new InternalErrorException("simulated outage");
            }
            Bundle response = new Bundle().setType(Bundle.BundleType.TRANSACTIONRESPONSE);
            for (Bundle.BundleEntryComponent entry : request.getEntry()) {
                Resource resource = entry.getResource();
                String condition = entry.getRequest().getIfNoneExist();
                String key = resource.fhirType() + "|" + (condition == null ? UUID.randomUUID()
                        : condition.substring("identifier=".length()));
                boolean created = stored.putIfAbsent(key, resource) == null;
                response.addEntry().getResponse().setStatus(created ? "201 Created" : "200 OK");
            }
            return response;
        }
    }

    @Override
    public void close() throws Exception {
        tomcat.stop();
        tomcat.destroy();
    }
}
