package org.supplyhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Mapping regression tests: {@code <tests>/<interface>/NAME.hl7} against {@code NAME.expected.json}
 * beside it, which is {@code try}'s JSON for that file with the values the hub makes up per run
 * normalised (see {@link DryRun#GENERATED}).
 */
final class MappingTests {

    /** How many tests passed and failed (a missing expected file is a failure). */
    record Summary(int passed, int failed, int updated) { }

    static final String INPUT = ".hl7";
    static final String EXPECTED = ".expected.json";

    private final InterfaceCatalog catalog;
    private final DryRun dryRun;
    private final PrintStream out;

    MappingTests(InterfaceCatalog catalog, DryRun dryRun, PrintStream out) {
        this.catalog = catalog;
        this.dryRun = dryRun;
        this.out = out;
    }

    Summary run(Path tests, boolean update) {
        int passed = 0;
        int failed = 0;
        int updated = 0;
        for (Path dir : list(tests, Files::isDirectory)) {
            String interfaceId = dir.getFileName().toString();
            Optional<InterfaceDefinition> iface = catalog.find(interfaceId);
            List<Path> inputs = list(dir, p -> p.getFileName().toString().endsWith(INPUT));
            if (iface.isEmpty()) {
                out.println("FAIL " + display(tests, dir) + ": no interface '" + interfaceId + "' is configured");
                failed += Math.max(1, inputs.size());
                continue;
            }
            for (Path input : inputs) {
                String name = input.getFileName().toString();
                Path expectedFile = input.resolveSibling(name.substring(0, name.length() - INPUT.length()) + EXPECTED);
                String label = interfaceId + "/" + name;
                JsonNode actual;
                try {
                    actual = document(iface.get(), input);
                } catch (IOException e) {
                    out.println("FAIL " + label + ": cannot read it (" + e.getClass().getSimpleName() + ")");
                    failed++;
                    continue;
                }
                if (update) {
                    write(expectedFile, actual);
                    out.println("WROTE " + interfaceId + "/" + expectedFile.getFileName());
                    updated++;
                    continue;
                }
                if (!Files.isRegularFile(expectedFile)) {
                    out.println("FAIL " + label + ": no " + expectedFile.getFileName() + " (write it with test --update,"
                            + " then review it)");
                    failed++;
                    continue;
                }
                JsonNode expected;
                try {
                    expected = DryRun.JSON.readTree(Files.readString(expectedFile, StandardCharsets.UTF_8));
                } catch (IOException e) {
                    out.println("FAIL " + label + ": " + expectedFile.getFileName() + " is not JSON");
                    failed++;
                    continue;
                }
                List<String> differences = new ArrayList<>();
                diff("", expected, actual, differences);
                if (differences.isEmpty()) {
                    out.println("PASS " + label);
                    passed++;
                } else {
                    out.println("FAIL " + label + ": " + differences.size() + " difference"
                            + (differences.size() == 1 ? "" : "s") + " (expected → actual)");
                    differences.forEach(d -> out.println("    " + d));
                    failed++;
                }
            }
        }
        out.println((update ? updated + " expected files written, " : "") + passed + " passed, " + failed + " failed");
        return new Summary(passed, failed, updated);
    }

    /** What an expected file holds: {@code try}'s document for this one file, normalised. */
    ObjectNode document(InterfaceDefinition iface, Path input) throws IOException {
        ObjectNode document = DryRun.JSON.createObjectNode();
        document.put("interface", iface.id());
        ArrayNode list = document.putArray("messages");
        List<byte[]> messages = MessageFiles.read(input);
        for (int i = 0; i < messages.size(); i++) {
            list.add(dryRun.run(iface, input.getFileName().toString(), i + 1, messages.get(i),
                    EnumSet.allOf(DryRun.Part.class), true));
        }
        return document;
    }

    /** Differences as JSON-pointer paths with the expected and actual values. */
    static void diff(String path, JsonNode expected, JsonNode actual, List<String> out) {
        if (expected == null || actual == null) {
            out.add((path.isEmpty() ? "/" : path) + ": " + (expected == null ? "(absent)" : expected) + " → "
                    + (actual == null ? "(absent)" : actual));
            return;
        }
        if (expected.isObject() && actual.isObject()) {
            TreeSet<String> names = new TreeSet<>();
            expected.fieldNames().forEachRemaining(names::add);
            actual.fieldNames().forEachRemaining(names::add);
            for (String name : names) {
                diff(path + "/" + name.replace("~", "~0").replace("/", "~1"), expected.get(name), actual.get(name), out);
            }
        } else if (expected.isArray() && actual.isArray()) {
            for (int i = 0; i < Math.max(expected.size(), actual.size()); i++) {
                diff(path + "/" + i, expected.get(i), actual.get(i), out);
            }
        } else if (!expected.equals(actual)) {
            out.add((path.isEmpty() ? "/" : path) + ": " + expected + " → " + actual);
        }
    }

    private static void write(Path file, JsonNode document) {
        try {
            Files.writeString(file, Cli.pretty(document) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String display(Path tests, Path dir) {
        return tests.getFileName() + "/" + dir.getFileName();
    }

    private static List<Path> list(Path dir, java.util.function.Predicate<Path> filter) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(filter).sorted().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
