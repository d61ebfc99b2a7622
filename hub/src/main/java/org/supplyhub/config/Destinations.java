package org.supplyhub.config;

import org.springframework.boot.convert.DurationStyle;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.config.DestinationDefinition.Format;
import org.supplyhub.config.DestinationDefinition.Output;
import org.supplyhub.mapping.ConfigurationException;
import org.yaml.snakeyaml.nodes.MappingNode;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/** Reads and checks the {@code outbox-delivery} entries of a routes file. */
final class Destinations {

    private static final Set<String> PARAMETERS = RouteTemplate.DELIVERY.parameterNames();

    private Destinations() {
    }

    static List<DestinationDefinition> read(Path file, String display) {
        List<DestinationDefinition> found = new ArrayList<>();
        for (Map.Entry<MappingNode, Map<String, String>> route
                : InterfaceCatalog.templatedRoutes(file, display, InterfaceCatalog.DELIVERY_TEMPLATE)) {
            found.add(define(InterfaceCatalog.at(display, route.getKey()), display, route.getValue()));
        }
        return found;
    }

    private static DestinationDefinition define(String at, String display, Map<String, String> p) {
        for (String name : p.keySet()) {
            if (!PARAMETERS.contains(name)) {
                throw new ConfigurationException(at + "template " + InterfaceCatalog.DELIVERY_TEMPLATE
                        + " has no parameter '" + name + "' (it takes " + PARAMETERS + ")");
            }
        }
        String name = p.get("destination");
        if (name == null || !name.matches("[a-z0-9][a-z0-9-]{0,99}")) {
            throw new ConfigurationException(at + "destination must be lower-case letters, digits and dashes (got "
                    + (name == null ? "nothing" : "'" + name + "'") + ")");
        }
        ConnectorKind connector = choice(at, "connector", p.get("connector"), ConnectorKind.class, null);
        Output output = choice(at, "output", p.get("output"), Output.class, null);
        Format format = choice(at, "format", p.get("format"), Format.class,
                output == Output.CHARGES ? Format.ER7 : Format.JSON);
        if (format == Format.ER7 && output != Output.CHARGES) {
            throw new ConfigurationException(at + "format er7 is for charges only");
        }
        String directory = p.get("directory");
        if (connector == ConnectorKind.FILE && (directory == null || directory.isBlank())) {
            throw new ConfigurationException(at + "the file connector needs a 'directory'");
        }
        URI url = null;
        if (connector != ConnectorKind.FILE) {
            // Exactly these schemes: outbound MLLP is plain TCP (there is no TLS client for it), so an
            // "mllps://" that merely starts like "mllp" would have sent charges in clear
            Set<String> schemes = connector == ConnectorKind.MLLP ? Set.of("mllp") : Set.of("http", "https");
            try {
                url = p.get("url") == null ? null : new URI(p.get("url").trim());
            } catch (URISyntaxException e) {
                url = null;
            }
            if (url == null || url.getScheme() == null
                    || !schemes.contains(url.getScheme().toLowerCase(Locale.ROOT)) || url.getHost() == null
                    || (connector == ConnectorKind.MLLP && url.getPort() < 1)) {
                throw new ConfigurationException(at + "the " + connector.name().toLowerCase(Locale.ROOT)
                        + " connector needs a 'url' like " + (connector == ConnectorKind.MLLP
                        ? "mllp://billing.example.org:6661 (plain TCP: outbound MLLP has no TLS)"
                        : connector == ConnectorKind.FHIR
                        ? "https://fhir.example.org/r4" : "https://inventory.example.org/api/stock-movements")
                        + " (got " + (p.get("url") == null ? "nothing" : "'" + p.get("url") + "'") + ")");
            }
        }
        if (connector == ConnectorKind.FHIR && output != Output.FHIR) {
            throw new ConfigurationException(at + "the fhir connector sends the fhir output (a transaction Bundle)");
        }
        if (connector == ConnectorKind.MLLP && (output != Output.CHARGES || format != Format.ER7)) {
            throw new ConfigurationException(at + "the mllp connector sends charges as er7");
        }
        return new DestinationDefinition(name, display, connector, output,
                directory == null || directory.isBlank() ? null : Path.of(directory), url,
                duration(at, "timeout", p.get("timeout"), Duration.ofSeconds(30)), format,
                number(at, "maxAttempts", p.get("maxAttempts"), 100),
                duration(at, "maxAge", p.get("maxAge"), Duration.ofHours(24)),
                duration(at, "initialBackoff", p.get("initialBackoff"), Duration.ofSeconds(2)),
                duration(at, "maxBackoff", p.get("maxBackoff"), Duration.ofMinutes(10)),
                duration(at, "pollInterval", p.get("pollInterval"), Duration.ofSeconds(1)),
                duration(at, "lease", p.get("lease"), Duration.ofMinutes(5)),
                number(at, "batchSize", p.get("batchSize"), 50),
                oauth2(at, connector, p.get("oauth2")),
                "retry".equals(choiceText(at, "onReject", p.get("onReject"), List.of("dead", "retry"), "dead")),
                new DestinationDefinition.Hl7Receiver(blankToNull(p.get("receivingApplication")), blankToNull(p.get("receivingFacility"))));
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    private static String oauth2(String at, ConnectorKind connector, String registration) {
        if (registration == null || registration.isBlank()) {
            return null;
        }
        if (connector != ConnectorKind.HTTP && connector != ConnectorKind.FHIR) {
            throw new ConfigurationException(at + "oauth2 is for the http and fhir connectors (bearer tokens)");
        }
        return registration.trim();
    }

    private static String choiceText(String at, String name, String value, List<String> allowed, String fallback) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        if (!allowed.contains(value.trim())) {
            throw new ConfigurationException(at + name + " '" + value + "' is not one of " + allowed);
        }
        return value.trim();
    }

    private static <E extends Enum<E>> E choice(String at, String name, String value, Class<E> type, E fallback) {
        if (value == null || value.isBlank()) {
            if (fallback != null) {
                return fallback;
            }
            throw new ConfigurationException(at + "parameter '" + name + "' is required (one of "
                    + List.of(type.getEnumConstants()).toString().toLowerCase(Locale.ROOT) + ")");
        }
        try {
            return Enum.valueOf(type, value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(at + name + " '" + value + "' is not one of "
                    + List.of(type.getEnumConstants()).toString().toLowerCase(Locale.ROOT));
        }
    }

    private static int number(String at, String name, String value, int fallback) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            int n = Integer.parseInt(value.trim());
            if (n > 0) {
                return n;
            }
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw new ConfigurationException(at + name + " must be a positive whole number (got '" + value + "')");
    }

    private static Duration duration(String at, String name, String value, Duration fallback) {
        if (value == null || value.isBlank()) {
            return fallback;
        }
        try {
            return DurationStyle.detectAndParse(value.trim());
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(at + name + " '" + value + "' is not a duration like 500ms, 2s or 10m");
        }
    }
}
