package org.supplyhub.support;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.annotation.Transaction;
import ca.uhn.fhir.rest.annotation.TransactionParam;
import ca.uhn.fhir.rest.server.RestfulServer;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.exceptions.InternalErrorException;
import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import ca.uhn.fhir.util.UrlUtil;
import org.apache.catalina.Context;
import org.apache.catalina.startup.Tomcat;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Resource;

import java.nio.file.Files;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HAPI {@link RestfulServer} on embedded Tomcat that keeps resources in memory and processes
 * transactions with conditional creates ({@code ifNoneExist: identifier=system|value}), like a FHIR
 * server would: the condition is read as a URL query with FHIR's search escaping, and a condition
 * that does not match the resource's own identifier is refused with 400 (as HAPI's JPA server
 * does). It can be told to fail the next transactions with 500, and to answer slowly.
 */
public final class FhirTestServer implements AutoCloseable {

    /** type|system|value → the stored resource. */
    public final Map<String, Resource> stored = new ConcurrentHashMap<>();
    public final AtomicInteger transactions = new AtomicInteger();
    public final AtomicInteger failNext = new AtomicInteger();
    /** How long each transaction takes before it is answered. */
    public volatile long delayMillis;
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
            if (delayMillis > 0) {
                try {
                    Thread.sleep(delayMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                throw new InternalErrorException("simulated outage");
            }
            Bundle response = new Bundle().setType(Bundle.BundleType.TRANSACTIONRESPONSE);
            for (Bundle.BundleEntryComponent entry : request.getEntry()) {
                Resource resource = entry.getResource();
                String condition = entry.getRequest().getIfNoneExist();
                String key = resource.fhirType() + "|" + (condition == null ? UUID.randomUUID() : matched(resource, condition));
                boolean created = stored.putIfAbsent(key, resource) == null;
                response.addEntry().getResponse().setStatus(created ? "201 Created" : "200 OK");
            }
            return response;
        }
    }

    /** system|value of the identifier the condition names, if it is the resource's own; else 400. */
    private static String matched(Resource resource, String condition) {
        String[] identifier = UrlUtil.parseQueryString(condition).get("identifier");
        if (identifier == null || identifier.length != 1) {
            throw new InvalidRequestException("conditional create needs one identifier: " + condition);
        }
        TokenParam token = new TokenParam();
        token.setValueAsQueryToken(FhirContext.forR4Cached(), "identifier", null, identifier[0]);
        Identifier own = resource instanceof DomainResource r ? identifierOf(r) : null;
        if (own == null || !token.getSystem().equals(own.getSystem()) || !token.getValue().equals(own.getValue())) {
            throw new InvalidRequestException("Failed to process conditional create. The supplied resource did not"
                    + " satisfy the conditional URL: " + condition);
        }
        return token.getSystem() + "|" + token.getValue();
    }

    /** The resource's first identifier, or null (what a conditional create on identifier compares with). */
    public static Identifier identifierOf(DomainResource resource) {
        Property p = resource.getNamedProperty("identifier");
        return p == null || !p.hasValues() ? null : (Identifier) p.getValues().get(0);
    }

    @Override
    public void close() throws Exception {
        tomcat.stop();
        tomcat.destroy();
    }
}
