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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;

/**
 * Reads mapping profiles from {@code mappings/} and checks them before the hub accepts traffic:
 * unknown keys, malformed Terser paths, paths the profile's HL7 version does not have (see
 * {@link ProfileCheck}), missing required fields, a broken crosswalk or lookup table all stop
 * start-up; each problem is one line, {@code file: line N: problem}, naming the file that is wrong.
 * Not thread-safe: one loader per load of the configuration.
 */
public final class ProfileLoader {


    private final ObjectMapper yaml = new ObjectMapper(new YAMLFactory())
            .registerModule(new JavaTimeModule())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);

    private final Path mappingsDir;
    /** Each CSV is read and checked once, however many profiles share it (its errors name it, not them). */
    private final Map<String, ItemMaster> itemMasters = new HashMap<>();
    private final Map<String, LookupTable> lookupTables = new HashMap<>();

    public ProfileLoader(Path mappingsDir) {
        this.mappingsDir = mappingsDir;
    }

    public Path directory() {
        return mappingsDir;
    }

    /** True if {@code mappings/<fileName>} is a file a profile can be read from. */
    public boolean exists(String fileName) {
        return Files.isRegularFile(mappingsDir.resolve(fileName));
    }

    /** A problem and the YAML key path it is about (its line is looked up when reported). */
    record KeyProblem(List<String> key, String text) { }

    /** A profile read and checked, with what it uses: shared by every interface that names its file. */
    private record Loaded(MappingProfile profile, ItemMaster master, Lookups lookups, StructureModel model) { }

    /** Each profile file is read and checked once per loader, however many interfaces use it. */
    private final Map<String, Loaded> profiles = new HashMap<>();
    private final Map<String, ConfigurationException> failed = new HashMap<>();

    public UsageMapper load(String interfaceId, String fileName) {
        ConfigurationException failure = failed.get(fileName);
        if (failure != null) {
            throw failure;
        }
        Loaded loaded = profiles.get(fileName);
        if (loaded == null) {
            try {
                loaded = read(fileName);
            } catch (ConfigurationException e) {
                failed.put(fileName, e);
                throw e;
            }
            profiles.put(fileName, loaded);
        }
        return new UsageMapper(interfaceId, loaded.profile(), loaded.master(), loaded.lookups(), loaded.model());
    }

    private Loaded read(String fileName) {
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
        List<KeyProblem> problems = new ProfileCheck(profile).run();
        // the tables' own problems (they name the CSV file and line), reported with the profile's
        List<ConfigurationException.Problem> tableProblems = new ArrayList<>();
        Map<String, String> systemTables = systemTables(profile);
        Map<String, LookupTable> tables = new LinkedHashMap<>();
        if (profile.lookups() != null) {
            profile.lookups().forEach((name, csv) -> {
                if (csv == null || csv.isBlank() || csv.contains("..")) {
                    problems.add(new KeyProblem(List.of("lookups", name), "lookups." + name
                            + " must name a CSV file beside the profile"));
                    return;
                }
                try {
                    LookupTable table = lookupTables.computeIfAbsent(csv,
                            f -> LookupTable.load(mappingsDir.resolve(f), "mappings/" + f));
                    tables.put(name, table);
                    if (systemTables.containsKey(name)) {
                        tableProblems.addAll(table.nonUriValues(systemTables.get(name) + " (lookup " + name + ")"));
                    }
                } catch (ConfigurationException e) {
                    tableProblems.addAll(e.problems());
                }
            });
        }
        if (!problems.isEmpty() || !tableProblems.isEmpty()) {
            YamlLines lines;
            try {
                lines = YamlLines.read(file);
            } catch (IOException e) {
                lines = YamlLines.parse("");
            }
            List<ConfigurationException.Problem> found = new ArrayList<>();
            for (KeyProblem p : problems) {
                found.add(new ConfigurationException.Problem(display, lines.lineOf(p.key()), p.text()));
            }
            found.addAll(tableProblems);
            throw new ConfigurationException(found);
        }
        String masterFile = profile.itemMaster().file();
        ItemMaster master = itemMasters.computeIfAbsent(masterFile,
                f -> ItemMaster.load(mappingsDir.resolve(f), "mappings/" + f));
        StructureModel model = StructureModel.of(profile.hl7Version(), profile.accept().messageTypes(),
                profile.line().group());
        return new Loaded(profile, master, new Lookups(tables), model == null ? StructureModel.NONE : model);
    }

    /**
     * Lookup tables whose values become systems (systems.*, item.systemUri, reason.system,
     * ndc.system), each with the first rule that uses it: their values must all be absolute URIs.
     */
    private static Map<String, String> systemTables(MappingProfile profile) {
        Map<String, String> used = new LinkedHashMap<>();
        if (profile.systems() != null) {
            profile.systems().rules().forEach((name, rule) -> addTables(used, rule, "systems." + name));
        }
        MappingProfile.LineFields line = profile.line();
        if (line != null) {
            if (line.item() != null) {
                addTables(used, line.item().systemUri(), "line.item.systemUri");
            }
            if (line.reason() != null) {
                addTables(used, line.reason().system(), "line.reason.system");
            }
            if (line.ndc() != null) {
                addTables(used, line.ndc().system(), "line.ndc.system");
            }
        }
        return used;
    }

    private static void addTables(Map<String, String> used, FieldRule rule, String name) {
        if (rule != null) {
            rule.lookups().forEach(table -> used.putIfAbsent(table, name));
        }
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

}
