package org.supplyhub.bench;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import ca.uhn.hl7v2.util.idgenerator.InMemoryIDGenerator;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.component.mllp.MllpConstants;
import org.apache.camel.impl.DefaultCamelContext;

/**
 * The bare baseline: a camel-mllp listener that parses with HAPI and answers AA, nothing else
 * (no mapping, no journal). Runs in its own JVM, like the hub, so both are measured the same way.
 */
public final class BareMllpServer {

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        HapiContext hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
        hapi.getParserConfiguration().setIdGenerator(new InMemoryIDGenerator());
        ThreadLocal<PipeParser> parsers = ThreadLocal.withInitial(() -> new PipeParser(hapi)); // PipeParser is not thread-safe
        DefaultCamelContext camel = new DefaultCamelContext();
        camel.addRoutes(new RouteBuilder() {
            @Override
            public void configure() {
                from("mllp://0.0.0.0:" + port + "?autoAck=false&maxConcurrentConsumers=64&hl7Headers=false")
                        .process(exchange -> {
                            PipeParser parser = parsers.get();
                            Message message = parser.parse(exchange.getMessage().getBody(String.class));
                            exchange.setProperty(MllpConstants.MLLP_ACKNOWLEDGEMENT_STRING, parser.encode(message.generateACK()));
                        });
            }
        });
        camel.start();
        System.out.println("READY " + port);
        Thread.currentThread().join();
    }
}
