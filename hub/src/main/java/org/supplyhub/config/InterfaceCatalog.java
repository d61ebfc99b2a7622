package org.supplyhub.config;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.mapping.ConfigurationException;
import org.supplyhub.mapping.ProfileLoader;
import org.supplyhub.mapping.UsageMapper;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The interfaces declared in {@code routes/*.yaml}. Each file is Camel YAML DSL; Camel builds the
 * routes from it. This catalog reads the same files first, so that an interface that uses one of the
 * hub's templates is checked (parameters, mapping profile, crosswalk) before anything listens, and a
 * mistake stops start-up with the file, the line and the problem.
 */
public final class InterfaceCatalog {

    public static final String MLLP_TEMPLATE = RouteTemplate.MLLP.id();
    public static final String MLLP_TLS_TEMPLATE = RouteTemplate.MLLP_TLS.id();
    public static final String HTTP_TEMPLATE = RouteTemplate.HTTP.id();
    public static final String DELIVERY_TEMPLATE = RouteTemplate.DELIVERY.id();

    private static final Logger log = LoggerFactory.getLogger(InterfaceCatalog.class);

    private final Map<String, InterfaceDefinition> byId;
    private final Map<String, DestinationDefinition> destinations;
    private final List<TemplatedRoute> routes;
    private final Set<String> filesWithOtherRoutes;

    private InterfaceCatalog(Map<String, InterfaceDefinition> byId, Map<String, DestinationDefinition> destinations,
                             List<TemplatedRoute> routes, Set<String> filesWithOtherRoutes) {
        this.filesWithOtherRoutes = Set.copyOf(filesWithOtherRoutes);
        this.byId = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(byId));
        this.destinations = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(destinations));
        this.routes = List.copyOf(routes);
    }

    /**
     * One {@code templatedRoute} of the hub's templates, as written in a routes file: what live reload
     * compares to decide which Camel routes to start, stop or leave running.
     *
     * @param routeId the file's {@code routeId}, or null (then Camel names the route)
     * @param name    the interface id or destination name the route serves
     */
    public record TemplatedRoute(String file, String template, String routeId, String name, Map<String, String> parameters) {

        public boolean isDestination() {
            return DELIVERY_TEMPLATE.equals(template);
        }

        /** Interface or destination and its name: one route per key in a valid set. */
        public String key() {
            return (isDestination() ? "destination:" : "interface:") + name;
        }

        /**
         * What the running route is built from: a route whose shape changes is restarted. A destination's
         * route reads all its settings per poll; a listener is rebuilt when how it listens changes.
         */
        public Map<String, String> shape() {
            Map<String, String> shape = new java.util.TreeMap<>();
            shape.put("template", template);
            if (routeId != null) {
                shape.put("routeId", routeId);
            }
            if (!isDestination()) {
                parameters.forEach((k, v) -> {
                    // parameters read per message from the running set need no restart
                    if (RouteTemplate.byId(template).flatMap(t -> t.parameter(k))
                            .map(p -> !p.readLive()).orElse(true)) {
                        shape.put(k, v);
                    }
                });
            }
            return shape;
        }
    }

    /**
     * The routes files that hold more than the hub's templated routes (a file pickup, a route of
     * one's own): Camel loads those entries at start-up; live reload does not change them.
     */
    public Set<String> filesWithOtherRoutes() {
        return filesWithOtherRoutes;
    }

    /** Every templated route of the hub's templates, in file order (destinations first). */
    public List<TemplatedRoute> routes() {
        return routes;
    }

    public DestinationDefinition destination(String name) {
        DestinationDefinition d = destinations.get(name);
        if (d == null) {
            throw new IllegalArgumentException("unknown destination " + name);
        }
        return d;
    }

    public Collection<DestinationDefinition> destinations() {
        return destinations.values();
    }

    public Optional<InterfaceDefinition> find(String interfaceId) {
        return Optional.ofNullable(byId.get(interfaceId));
    }

    public InterfaceDefinition get(String interfaceId) {
        return find(interfaceId).orElseThrow(() -> new IllegalArgumentException("unknown interface " + interfaceId));
    }

    public Collection<InterfaceDefinition> all() {
        return byId.values();
    }

    public static InterfaceCatalog load(Path routesDir, Path mappingsDir) {
        if (!Files.isDirectory(routesDir)) {
            throw new ConfigurationException("routes directory " + routesDir.toAbsolutePath() + " does not exist");
        }
        ProfileLoader profiles = new ProfileLoader(mappingsDir);
        Map<String, InterfaceDefinition> byId = new LinkedHashMap<>();
        Map<Integer, String> ports = new LinkedHashMap<>();
        List<Path> files;
        try (Stream<Path> list = Files.list(routesDir)) {
            files = list.filter(p -> p.toString().endsWith(".yaml") || p.toString().endsWith(".yml")).sorted().toList();
        } catch (IOException e) {
            throw new ConfigurationException("cannot list " + routesDir + ": " + e.getMessage(), e);
        }
        // every file is read and every problem collected, so one run of validate (or one refused
        // reload) lists them all; a problem shared by several interfaces (their item master) once
        Set<ConfigurationException.Problem> problems = new java.util.LinkedHashSet<>();
        Map<String, DestinationDefinition> destinations = new LinkedHashMap<>();
        List<TemplatedRoute> routes = new ArrayList<>();
        Set<String> filesWithOtherRoutes = new java.util.TreeSet<>();
        for (Path file : files) {
            String display = "routes/" + file.getFileName();
            try {
                List<TemplatedRoute> declared = declaredRoutes(file, display);
                routes.addAll(declared);
                Node root = compose(file, display);
                if (root instanceof SequenceNode entries && entries.getValue().size() > declared.size()) {
                    filesWithOtherRoutes.add(display);
                }
                for (DestinationDefinition d : Destinations.read(file, display)) {
                    DestinationDefinition previous = destinations.putIfAbsent(d.name(), d);
                    if (previous != null) {
                        throw new ConfigurationException(display + ": destination '" + d.name()
                                + "' is already declared in " + previous.file());
                    }
                }
            } catch (ConfigurationException e) {
                problems.addAll(e.problems());
            }
        }
        // a destination that failed to read would make every interface naming it fail again: say it once
        boolean destinationsComplete = problems.isEmpty();
        for (Path file : files) {
            String display = "routes/" + file.getFileName();
            for (InterfaceDefinition def : readFile(file, display, profiles, problems)) {
                try {
                    for (String destination : def.destinations()) {
                        if (destinationsComplete && !destinations.containsKey(destination)) {
                            throw new ConfigurationException(display + ": interface '" + def.id()
                                    + "' sends to destination '" + destination
                                    + "', which no routes file declares (template " + DELIVERY_TEMPLATE + ")");
                        }
                    }
                    InterfaceDefinition previous = byId.putIfAbsent(def.id(), def);
                    if (previous != null) {
                        throw new ConfigurationException(display + ": interface '" + def.id() + "' is already declared in "
                                + previous.file());
                    }
                    if (def.mllpPort() != null) {
                        String other = ports.putIfAbsent(def.mllpPort(), def.id());
                        if (other != null) {
                            throw new ConfigurationException(display + ": port " + def.mllpPort()
                                    + " is already used by interface '" + other + "'");
                        }
                    }
                } catch (ConfigurationException e) {
                    problems.addAll(e.problems());
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(List.copyOf(problems));
        }
        for (InterfaceDefinition def : byId.values()) {
            log.info("Interface {} ({}{}) → destinations {}", def.id(), def.template(),
                    def.mllpPort() == null ? "" : ", MLLP port " + def.mllpPort(), def.destinations());
        }
        return new InterfaceCatalog(byId, destinations, routes, filesWithOtherRoutes);
    }

    /** The file's templated routes of the hub's templates, with their routeId (checked by the readers above). */
    private static List<TemplatedRoute> declaredRoutes(Path file, String display) {
        List<TemplatedRoute> found = new ArrayList<>();
        for (String template : List.of(DELIVERY_TEMPLATE, MLLP_TEMPLATE, MLLP_TLS_TEMPLATE, HTTP_TEMPLATE)) {
            for (Map.Entry<MappingNode, Map<String, String>> route : templatedRoutes(file, display, template)) {
                Map<String, String> params = route.getValue();
                String name = template.equals(DELIVERY_TEMPLATE) ? params.get("destination") : params.get("interfaceId");
                found.add(new TemplatedRoute(display, template, scalar(child(route.getKey(), "routeId")), name,
                        java.util.Collections.unmodifiableMap(new LinkedHashMap<>(params))));
            }
        }
        return found;
    }

    static Node compose(Path file, String display) {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return new Yaml().compose(reader);
        } catch (YAMLException e) {
            throw new ConfigurationException(display + ": not valid YAML: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new ConfigurationException(display + ": cannot be read: " + e.getMessage(), e);
        }
    }

    /** The parameters of each templatedRoute in the file that uses the given template. */
    static List<Map.Entry<MappingNode, Map<String, String>>> templatedRoutes(Path file, String display, String template) {
        Node root = compose(file, display);
        List<Map.Entry<MappingNode, Map<String, String>>> found = new ArrayList<>();
        if (root == null) {
            return found;
        }
        if (!(root instanceof SequenceNode entries)) {
            throw new ConfigurationException(at(display, root) + "a Camel YAML DSL file is a list (each entry starts with '- ')");
        }
        for (Node entry : entries.getValue()) {
            Node templated = entry instanceof MappingNode m ? child(m, "templatedRoute") : null;
            if (templated instanceof MappingNode route && template.equals(scalar(child(route, "routeTemplateRef")))) {
                found.add(Map.entry(route, parameters(display, route)));
            }
        }
        return found;
    }

    /** The file's interfaces that are valid; the problems of the others go to {@code problems}. */
    private static List<InterfaceDefinition> readFile(Path file, String display, ProfileLoader profiles,
                                                      Set<ConfigurationException.Problem> problems) {
        List<InterfaceDefinition> found = new ArrayList<>();
        for (String template : List.of(MLLP_TEMPLATE, MLLP_TLS_TEMPLATE, HTTP_TEMPLATE)) {
            List<Map.Entry<MappingNode, Map<String, String>>> declared;
            try {
                declared = templatedRoutes(file, display, template);
            } catch (ConfigurationException e) {
                problems.addAll(e.problems()); // the file itself (YAML) — reported once by the first pass too
                return found;
            }
            for (Map.Entry<MappingNode, Map<String, String>> route : declared) {
                try {
                    found.add(define(display, route.getKey(), template, route.getValue(), profiles));
                } catch (ConfigurationException e) {
                    problems.addAll(e.problems());
                }
            }
        }
        return found;
    }

    private static InterfaceDefinition define(String display, MappingNode route, String template,
                                              Map<String, String> params, ProfileLoader profiles) {
        Set<String> allowed = RouteTemplate.byId(template).orElseThrow().parameterNames();
        for (String name : params.keySet()) {
            if (!allowed.contains(name)) {
                throw new ConfigurationException(at(display, route) + "template " + template
                        + " has no parameter '" + name + "' (it takes " + allowed + ")");
            }
            String problem = RouteTemplate.byId(template).flatMap(t -> t.parameter(name))
                    .map(p -> p.problem(params.get(name))).orElse(null);
            if (problem != null) {
                throw new ConfigurationException(at(display, route) + problem);
            }
        }
        String id = params.get("interfaceId");
        if (id == null || !id.matches("[a-z0-9][a-z0-9-]{0,63}")) {
            throw new ConfigurationException(at(display, route) + "interfaceId must be lower-case letters, digits and"
                    + " dashes, e.g. mercy-or (got " + (id == null ? "nothing" : "'" + id + "'") + ")");
        }
        String mapping = params.get("mapping");
        if (mapping == null) {
            throw new ConfigurationException(at(display, route) + "parameter 'mapping' (a file in mappings/) is required");
        }
        Integer port = null;
        if (template.equals(MLLP_TEMPLATE) || template.equals(MLLP_TLS_TEMPLATE)) {
            String text = params.get("port");
            try {
                port = Integer.valueOf(text);
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                throw new ConfigurationException(at(display, route) + "parameter 'port' must be a TCP port (got "
                        + (text == null ? "nothing" : "'" + text + "'") + ")");
            }
        }
        Charset charset = StandardCharsets.ISO_8859_1;
        if (params.get("charset") != null) {
            try {
                charset = Charset.forName(params.get("charset"));
            } catch (RuntimeException e) {
                throw new ConfigurationException(at(display, route) + "charset '" + params.get("charset") + "' is unknown");
            }
        }
        List<String> destinations = params.get("destinations") == null ? List.of()
                : Arrays.stream(params.get("destinations").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        for (String destination : destinations) {
            if (!destination.matches("[a-z0-9][a-z0-9-]{0,99}")) {
                throw new ConfigurationException(at(display, route) + "destination name '" + destination
                        + "' must be lower-case letters, digits and dashes");
            }
        }
        // a profile that does not exist is this route's mistake; the problems of one that does name the
        // file that is wrong (the profile, a lookup table, the item master several interfaces share)
        if (!profiles.exists(mapping)) {
            throw new ConfigurationException(at(display, route) + "interface '" + id + "': mapping file mappings/"
                    + mapping + " not found (looked in " + profiles.directory().toAbsolutePath() + ")");
        }
        UsageMapper mapper = profiles.load(id, mapping);
        InterfaceDefinition.Tls tls = template.equals(MLLP_TLS_TEMPLATE) ? tls(at(display, route), params) : null;
        return new InterfaceDefinition(id, display, template, port, params.get("description"), mapper,
                destinations, charset, tls);
    }

    /** TLS material comes from a Spring SSL bundle (secrets stay out of routes/); the binding lives here. */
    private static InterfaceDefinition.Tls tls(String at, Map<String, String> params) {
        String bundle = params.get("tls");
        if (bundle == null || bundle.isBlank()) {
            throw new ConfigurationException(at + "parameter 'tls' names the SSL bundle (spring.ssl.bundle.*.<name>)"
                    + " with the listener's key and the CAs it trusts");
        }
        String need = params.getOrDefault("needClientAuth", "true").trim();
        if (!need.equals("true") && !need.equals("false")) {
            throw new ConfigurationException(at + "needClientAuth is true or false (got '" + need + "')");
        }
        List<javax.security.auth.x500.X500Principal> clients = new java.util.ArrayList<>();
        String listed = params.get("clientCertificates");
        if (listed != null) {
            for (String subject : listed.split(";")) {
                if (!subject.isBlank()) {
                    try {
                        clients.add(new javax.security.auth.x500.X500Principal(subject.trim()));
                    } catch (IllegalArgumentException e) {
                        throw new ConfigurationException(at + "clientCertificates: '" + subject.trim()
                                + "' is not a certificate subject like CN=ormgr.mercy.org,O=Mercy General");
                    }
                }
            }
        }
        if (need.equals("true") && clients.isEmpty()) {
            throw new ConfigurationException(at + "with needClientAuth, list the certificate subjects bound to this"
                    + " interface in clientCertificates (separated by ';')");
        }
        return new InterfaceDefinition.Tls(bundle.trim(), Boolean.parseBoolean(need), List.copyOf(clients));
    }

    /** Camel's templatedRoute parameters: a list of {name, value} pairs. */
    static Map<String, String> parameters(String display, MappingNode route) {
        Map<String, String> params = new LinkedHashMap<>();
        Node node = child(route, "parameters");
        if (node == null) {
            return params;
        }
        if (!(node instanceof SequenceNode list)) {
            throw new ConfigurationException(at(display, node) + "parameters is a list of '- name: … value: …' entries");
        }
        for (Node item : list.getValue()) {
            if (!(item instanceof MappingNode pair)) {
                throw new ConfigurationException(at(display, item) + "each parameter is '- name: … value: …'");
            }
            String name = scalar(child(pair, "name"));
            String value = scalar(child(pair, "value"));
            if (name == null) {
                throw new ConfigurationException(at(display, item) + "parameter without a name");
            }
            if (params.put(name, value) != null) {
                throw new ConfigurationException(at(display, item) + "parameter '" + name + "' is given twice");
            }
        }
        return params;
    }

    private static Node child(MappingNode node, String key) {
        for (NodeTuple tuple : node.getValue()) {
            if (key.equals(scalar(tuple.getKeyNode()))) {
                return tuple.getValueNode();
            }
        }
        return null;
    }

    private static String scalar(Node node) {
        return node instanceof ScalarNode s ? s.getValue().trim() : null;
    }

    static String at(String display, Node node) {
        return display + ": line " + (node.getStartMark().getLine() + 1) + ": ";
    }

}
