package org.supplyhub.mapping;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Where each key of a YAML file is, so a problem found after Jackson has bound the file (a path
 * that does not exist in the message structure, an unknown lookup table) can name its line. The
 * file is read once into SnakeYAML's node tree, which keeps the position of every node.
 */
public final class YamlLines {

    private final Node root;

    private YamlLines(Node root) {
        this.root = root;
    }

    /** The lines of {@code file}; a file that is not valid YAML answers 0 (unknown) for every path. */
    public static YamlLines read(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file)) {
            return of(reader);
        }
    }

    /** The lines of YAML text. */
    public static YamlLines parse(String yaml) {
        try {
            return of(new StringReader(yaml));
        } catch (IOException e) {
            throw new IllegalStateException("a StringReader does not fail", e);
        }
    }

    private static YamlLines of(Reader reader) throws IOException {
        try {
            return new YamlLines(new Yaml(new LoaderOptions()).compose(reader));
        } catch (YAMLException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            return new YamlLines(null); // the YAML parser that binds the file reports the syntax error with its line
        }
    }

    /**
     * The 1-based line of the key at {@code path} (mapping keys by name, list items by their index
     * as a string: {@code lineOf("line", "devices", "0", "udi")}). If the path does not reach that
     * far, the line of the deepest part that exists; 0 if not even the first key exists.
     */
    public int lineOf(String... path) {
        return lineOf(List.of(path));
    }

    /** {@link #lineOf(String...)} for a path held as a list. */
    public int lineOf(List<String> path) {
        Node node = root;
        Node found = null;
        for (String step : path) {
            Node key = null;
            Node next = null;
            if (node instanceof MappingNode mapping) {
                for (NodeTuple tuple : mapping.getValue()) {
                    if (tuple.getKeyNode() instanceof ScalarNode k && k.getValue().equals(step)) {
                        key = k;
                        next = tuple.getValueNode(); // last one wins, as when the file is bound
                    }
                }
            } else if (node instanceof SequenceNode sequence && step.matches("\\d{1,9}")) {
                int index = Integer.parseInt(step);
                if (index < sequence.getValue().size()) {
                    next = sequence.getValue().get(index);
                    key = next;
                }
            }
            if (key == null) {
                break;
            }
            found = key;
            node = next;
        }
        return found == null ? 0 : found.getStartMark().getLine() + 1;
    }
}
