package org.supplyhub.config;

import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.RouteTemplateDefinition;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The hub's route templates and their parameters, declared once: the Camel templates
 * ({@code IngestRoutes}, {@code DeliveryRoutes}) are declared from here, and the catalog checks
 * each {@code templatedRoute} of a routes file against the same list.
 */
public enum RouteTemplate {

    /** MLLP over TCP; {@code allowedSources}: the CIDR blocks a sender may connect from (empty: any). */
    MLLP("hl7-mllp-inbound", listener(
            optional("allowedSources", ""))),
    /** MLLP over TLS: {@code tls} names the SSL bundle; the certificate subjects bound to the interface. */
    MLLP_TLS("hl7-mllp-tls-inbound", listener(
            required("tls"), optional("needClientAuth", "true"), optional("clientCertificates", ""))),
    /** No listener: HTTP ({@code POST /hl7/<interfaceId>}) and {@code direct:hl7-<interfaceId>}. */
    HTTP("hl7-http-inbound", interfaceParameters()),
    /** One destination's outbox drain. Its settings are read per poll from the running set. */
    DELIVERY("outbox-delivery", List.of(
            required("destination"), required("connector"), required("output"),
            live("directory"), live("format"), live("maxAttempts"), live("maxAge"), live("initialBackoff"),
            live("maxBackoff"), live("pollInterval"), live("lease"), live("batchSize"), live("description"),
            live("url"), live("timeout"), live("oauth2"), live("onReject"), live("receivingApplication"),
            live("receivingFacility")));

    /**
     * One parameter: {@code defaultValue} null means required. {@code readLive}: read per message (or
     * per poll) from the running configuration, so a reload that changes it restarts nothing.
     */
    public record Parameter(String name, String defaultValue, boolean readLive, Check check) {
        public Parameter(String name, String defaultValue, boolean readLive) {
            this(name, defaultValue, readLive, value -> null);
        }

        public boolean required() {
            return defaultValue == null;
        }

        /** What is wrong with a value given in a routes file, or null if nothing is. */
        public String problem(String value) {
            return value == null ? null : check.problem(value.trim());
        }

        /** The value given, or the default. */
        public String valueIn(java.util.Map<String, String> given) {
            String value = given.get(name);
            return value == null ? defaultValue : value.trim();
        }
    }

    /** A parameter's own rule for its value; returns what is wrong, or null. */
    @FunctionalInterface
    public interface Check {
        String problem(String value);
    }

    /**
     * MLLP connections this listener keeps open at once; the next one is closed before a byte is read
     * (the hub-wide {@code hub.mllp.max-connections} applies too). 100: a sending system opens one
     * or a few connections per interface; the rest is headroom for reconnects while half-open
     * connections of a flaky network wait for the idle timeout. Read per connection: a reload that
     * changes it restarts nothing and leaves open connections alone.
     */
    public static final String MAX_CONNECTIONS = "maxConnections";
    /**
     * {@code true}: FS alone ends a frame (a CR after it is skipped), for senders that leave out the CR.
     * {@code false} (MLLP): a frame must end with FS CR; one that ends with FS alone is answered AR.
     * Read per connection.
     */
    public static final String ACCEPT_FS_WITHOUT_CR = "acceptFsWithoutCr";

    private final String id;
    private final List<Parameter> parameters;

    RouteTemplate(String id, List<Parameter> parameters) {
        this.id = id;
        this.parameters = List.copyOf(parameters);
    }

    /** The name routes files give as {@code routeTemplateRef}. */
    public String id() {
        return id;
    }

    public List<Parameter> parameters() {
        return parameters;
    }

    public Set<String> parameterNames() {
        return parameters.stream().map(Parameter::name).collect(Collectors.toCollection(java.util.LinkedHashSet::new));
    }

    public Optional<Parameter> parameter(String name) {
        return parameters.stream().filter(p -> p.name().equals(name)).findFirst();
    }

    public boolean isListener() {
        return this == MLLP || this == MLLP_TLS;
    }

    public static Optional<RouteTemplate> byId(String id) {
        for (RouteTemplate t : values()) {
            if (t.id.equals(id)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    /** Declares this template, with its parameters and defaults, in a Camel route builder. */
    public RouteTemplateDefinition declare(RouteBuilder builder) {
        RouteTemplateDefinition template = builder.routeTemplate(id);
        for (Parameter p : parameters) {
            if (p.required()) {
                template.templateParameter(p.name());
            } else {
                template.templateParameter(p.name(), p.defaultValue());
            }
        }
        return template;
    }

    private static List<Parameter> interfaceParameters() {
        return List.of(required("interfaceId"), new Parameter("mapping", null, true), live("destinations"),
                new Parameter("charset", "ISO-8859-1", true), live("description"));
    }

    private static List<Parameter> listener(Parameter... more) {
        List<Parameter> all = new ArrayList<>(interfaceParameters());
        all.add(required("port"));
        // hub.mllp.host: in a container the listeners must bind 0.0.0.0 for the balancer to reach them,
        // without editing every interface file (docker-compose.yml sets HUB_MLLP_HOST)
        all.add(optional("host", "{{hub.mllp.host:127.0.0.1}}"));
        all.add(new Parameter(MAX_CONNECTIONS, "100", true, value -> value.matches("[1-9][0-9]{0,5}") ? null
                : "maxConnections is a whole number from 1 to 999999 (got '" + value + "')"));
        all.add(new Parameter(ACCEPT_FS_WITHOUT_CR, "false", true, value -> value.equals("true") || value.equals("false")
                ? null : "acceptFsWithoutCr is true or false (got '" + value + "')"));
        all.addAll(List.of(more));
        return all;
    }

    private static Parameter required(String name) {
        return new Parameter(name, null, false);
    }

    private static Parameter optional(String name, String defaultValue) {
        return new Parameter(name, defaultValue, false);
    }

    /** Optional, empty by default, read from the running set. */
    private static Parameter live(String name) {
        return new Parameter(name, "", true);
    }
}
