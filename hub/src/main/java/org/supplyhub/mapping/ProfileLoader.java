package org.supplyhub.mapping;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;

import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads mapping profiles from {@code mappings/} and checks them before the hub accepts traffic:
 * unknown keys, malformed Terser paths, missing required fields and a broken crosswalk all stop
 * start-up with a message that names the file and, where YAML knows it, the line.
 */
public final class ProfileLoader {


    private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory())
            .registerModule(new JavaTimeModule())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private final Path mappingsDir;

    public ProfileLoader(Path mappingsDir) {
        this.mappingsDir = mappingsDir;
    }

    public UsageMapper load(String interfaceId, String fileName) {
        Path file = mappingsDir.resolve(fileName);
        String display = "mappings/" + fileName;
        if (!Files.isRegularFile(file)) {
            throw new ConfigurationException(display + ": not found (looked in " + mappingsDir.toAbsolutePath() + ")");
        }
        MappingProfile profile;
        try {
            profile = yaml.readValue(file.toFile(), MappingProfile.class);
        } catch (UnrecognizedPropertyException e) {
            throw new ConfigurationException(display + ": line " + line(file, e) + ": unknown key '"
                    + e.getPropertyName() + "' (known here: " + e.getKnownPropertyIds() + ")", e);
        } catch (JsonMappingException e) {
            throw new ConfigurationException(display + ": line " + line(file, e) + ": " + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new ConfigurationException(display + ": line " + line(e.getLocation()) + ": " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new ConfigurationException(display + ": cannot be read: " + e.getMessage(), e);
        }
        if (profile == null) {
            throw new ConfigurationException(display + ": is empty");
        }
        List<String> problems = check(profile);
        if (!problems.isEmpty()) {
            throw new ConfigurationException(display + ": " + String.join("; ", problems));
        }
        String masterFile = profile.itemMaster().file();
        ItemMaster master = ItemMaster.load(mappingsDir.resolve(masterFile), "mappings/" + masterFile);
        return new UsageMapper(interfaceId, profile, master);
    }

    /**
     * The line of the key a mapping error points at. Jackson buffers record properties, so its own
     * location can be lines later; the YAML node tree knows where each key is.
     */
    private static int line(Path file, JsonMappingException e) {
        try (Reader reader = Files.newBufferedReader(file)) {
            Node node = new Yaml().compose(reader);
            Node found = null;
            for (JsonMappingException.Reference ref : e.getPath()) {
                if (!(node instanceof MappingNode mapping) || ref.getFieldName() == null) {
                    break;
                }
                Node next = null;
                for (NodeTuple tuple : mapping.getValue()) {
                    if (tuple.getKeyNode() instanceof ScalarNode key && key.getValue().equals(ref.getFieldName())) {
                        found = tuple.getKeyNode();
                        next = tuple.getValueNode();
                    }
                }
                node = next;
            }
            return found != null ? found.getStartMark().getLine() + 1 : line(e.getLocation());
        } catch (IOException | RuntimeException ignored) {
            return line(e.getLocation());
        }
    }

    private static int line(JsonLocation location) {
        return location == null ? 0 : location.getLineNr();
    }

    private static List<String> check(MappingProfile p) {
        List<String> problems = new ArrayList<>();
        if (p.accept() == null || p.accept().messageTypes() == null || p.accept().messageTypes().isEmpty()) {
            problems.add("accept.messageTypes must list at least one message type, e.g. DFT^P03");
        }
        if (p.accept() != null && p.accept().senders() != null && p.accept().senders().stream()
                .anyMatch(s -> s == null || !s.matches("[^^]*\\^[^^]*"))) {
            problems.add("accept.senders lists MSH-3^MSH-4 pairs, e.g. ORMGR^MERCY_OR");
        }
        if (p.systems() == null || p.systems().patient() == null) {
            problems.add("systems.patient (the sender's patient identifier system) is required");
        }
        if (p.systems() != null) {
            checkSystems(p.systems(), problems);
        }
        if (p.message() == null || p.message().patient() == null) {
            problems.add("message.patient is required");
        } else {
            checkRule("message.patient", p.message().patient(), problems);
            checkRule("message.patientAuthority", p.message().patientAuthority(), problems);
            checkRule("message.patientIdType", p.message().patientIdType(), problems);
            checkRule("message.account", p.message().account(), problems);
            checkRule("message.encounter", p.message().encounter(), problems);
        }
        MappingProfile.LineFields line = p.line();
        if (line == null) {
            problems.add("line is required");
        } else {
            if (line.group() == null || !line.group().matches("[A-Z][A-Z0-9_]*")) {
                problems.add("line.group must name the repeating group of each line, e.g. FINANCIAL");
            }
            requireRule("line.transactionId", line.transactionId(), problems);
            requireRule("line.quantity", line.quantity(), problems);
            if (line.item() == null) {
                problems.add("line.item is required");
            } else {
                requireRule("line.item.code", line.item().code(), problems);
                checkRule("line.item.system", line.item().system(), problems);
                checkRule("line.item.text", line.item().text(), problems);
            }
            checkRule("line.kind", line.kind(), problems);
            checkRule("line.serviceDate", line.serviceDate(), problems);
            checkRule("line.unitPrice", line.unitPrice(), problems);
            checkRule("line.extendedPrice", line.extendedPrice(), problems);
            checkRule("line.currency", line.currency(), problems);
            checkRule("line.department", line.department(), problems);
            checkRule("line.location", line.location(), problems);
            checkRule("line.performer", line.performer(), problems);
            checkRule("line.procedure", line.procedure(), problems);
            checkRule("line.originalTransactionId", line.originalTransactionId(), problems);
            if (line.kind() != null && line.kind().map() != null) {
                line.kind().map().forEach((from, to) -> {
                    if (!to.equals("charge") && !to.equals("credit")) {
                        problems.add("line.kind.map: '" + from + "' maps to '" + to + "', expected charge or credit");
                    }
                });
            }
            MappingProfile.Implant implant = line.implant();
            if (implant != null) {
                checkRule("line.implant.udi", implant.udi(), problems);
                checkRule("line.implant.deviceIdentifier", implant.deviceIdentifier(), problems);
                checkRule("line.implant.lot", implant.lot(), problems);
                checkRule("line.implant.serial", implant.serial(), problems);
                checkRule("line.implant.expiry", implant.expiry(), problems);
                checkRule("line.implant.manufactureDate", implant.manufactureDate(), problems);
                checkRule("line.implant.manufacturer", implant.manufacturer(), problems);
                checkRule("line.implant.catalogNumber", implant.catalogNumber(), problems);
                checkRule("line.implant.model", implant.model(), problems);
                checkRule("line.implant.bodySite", implant.bodySite(), problems);
            }
        }
        if (p.itemMaster() == null || p.itemMaster().file() == null) {
            problems.add("itemMaster.file (the crosswalk CSV) is required");
        } else if (p.itemMaster().match() != null
                && !p.itemMaster().match().replace("{item.system}", "").replace("{item.code}", "").matches("[^{}]*")) {
            problems.add("itemMaster.match may only use {item.system} and {item.code}");
        }
        return problems;
    }

    /** Systems become FHIR uris: absolute, without spaces. */
    private static void checkSystems(MappingProfile.Systems s, List<String> problems) {
        String[][] named = {{"patient", s.patient()}, {"account", s.account()}, {"encounter", s.encounter()},
                {"location", s.location()}, {"practitioner", s.practitioner()}, {"costCenter", s.costCenter()},
                {"transaction", s.transaction()}, {"item", s.item()}, {"chargeCode", s.chargeCode()},
                {"procedure", s.procedure()}};
        for (String[] system : named) {
            String value = system[1];
            if (value != null && !absoluteUri(value)) {
                problems.add("systems." + system[0] + ": '" + value + "' is not an absolute URI like https://…/sid/mrn or urn:oid:…");
            }
        }
    }

    private static boolean absoluteUri(String value) {
        if (value.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            return false;
        }
        try {
            return new java.net.URI(value).isAbsolute();
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }

    private static void requireRule(String name, FieldRule rule, List<String> problems) {
        if (rule == null) {
            problems.add(name + " is required");
        } else {
            checkRule(name, rule, problems);
        }
    }

    private static void checkRule(String name, FieldRule rule, List<String> problems) {
        if (rule == null) {
            return;
        }
        if (rule.paths().isEmpty() && rule.defaultValue() == null) {
            problems.add(name + " needs a path, a join or a default");
        }
        for (String path : rule.paths()) {
            if (!Hl7Path.isValid(path)) {
                problems.add(name + ": '" + path + "' is not a Terser path like PID-3-1 or ZIM-2");
            }
        }
    }
}
