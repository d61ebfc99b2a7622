package org.supplyhub.mapping;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A code translation table beside the profiles: CSV with header {@code code,value} and an
 * optional {@code display}. Used by value rules ({@code lookup: codeSystems}) to turn what the
 * sender sends ({@code C4}) into what the hub needs ({@code http://www.ama-assn.org/go/cpt}).
 */
public final class LookupTable {

    private final String file;
    private final Map<String, String> values;
    private final Map<String, String> displays;
    private final Map<String, Integer> lines;     // the CSV line of each code, for load-time problems

    private LookupTable(String file, Map<String, String> values, Map<String, String> displays,
                        Map<String, Integer> lines) {
        this.file = file;
        this.values = Map.copyOf(values);
        this.displays = Map.copyOf(displays);
        this.lines = Map.copyOf(lines);
    }

    /**
     * One problem per value that is not an absolute URI, in file order: for a table whose values
     * become identifier or code systems ({@code usedBy}, e.g. {@code systems.patient}).
     */
    List<ConfigurationException.Problem> nonUriValues(String usedBy) {
        return values.entrySet().stream()
                .filter(e -> !FieldChecks.isUri(e.getValue()))
                .sorted(java.util.Comparator.comparing(e -> lines.get(e.getKey())))
                .map(e -> new ConfigurationException.Problem(file, lines.get(e.getKey()), "value of code '"
                        + e.getKey() + "' is not an absolute URI, and " + usedBy + " uses it as a system"))
                .toList();
    }

    /** The display name of the file, e.g. {@code mappings/code-systems.csv}. */
    public String file() {
        return file;
    }

    public String value(String code) {
        return values.get(code);
    }

    public String display(String code) {
        return displays.get(code);
    }

    public int size() {
        return values.size();
    }

    /** Reads and checks a table; a bad row is a {@link ConfigurationException} naming file and line. */
    public static LookupTable load(Path path, String displayName) {
        if (!Files.isRegularFile(path)) {
            throw new ConfigurationException(displayName + ": not found (looked in " + path.toAbsolutePath().getParent() + ")");
        }
        Map<String, String> values = new HashMap<>();
        Map<String, String> displays = new HashMap<>();
        Map<String, Integer> lines = new HashMap<>();
        try (Reader reader = Files.newBufferedReader(path, StandardCharsets.UTF_8);
             MappingIterator<Map<String, String>> rows = new CsvMapper().readerFor(Map.class)
                     .with(CsvSchema.emptySchema().withHeader()).readValues(reader)) {
            boolean headerChecked = false;
            while (rows.hasNext()) {
                Map<String, String> row = rows.next();
                int line = rows.getCurrentLocation().getLineNr() - 1;
                if (!headerChecked) {
                    if (!row.containsKey("code") || !row.containsKey("value")
                            || !List.of("code", "value", "display").containsAll(row.keySet())) {
                        throw new ConfigurationException(displayName, 1, "header must be code,value or code,value,display (it is "
                                + String.join(",", row.keySet()) + ")");
                    }
                    headerChecked = true;
                }
                String code = ItemMaster.blankToNull(row.get("code"));
                String value = ItemMaster.blankToNull(row.get("value"));
                if (code == null) {
                    throw new ConfigurationException(displayName, line, "code is empty");
                }
                if (value == null) {
                    throw new ConfigurationException(displayName, line, "value of code '" + code + "' is empty");
                }
                if (values.putIfAbsent(code, value) != null) {
                    throw new ConfigurationException(displayName, line, "code '" + code + "' appears twice");
                }
                lines.put(code, line);
                String display = ItemMaster.blankToNull(row.get("display"));
                if (display != null) {
                    displays.put(code, display);
                }
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof ConfigurationException ce) {
                throw ce;
            }
            throw new ConfigurationException(displayName + ": cannot be read as CSV: " + e.getMessage(), e);
        }
        if (values.isEmpty()) {
            throw new ConfigurationException(displayName + ": has no rows (header code,value[,display])");
        }
        return new LookupTable(displayName, values, displays, lines);
    }
}
