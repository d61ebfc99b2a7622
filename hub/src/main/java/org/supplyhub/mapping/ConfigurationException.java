package org.supplyhub.mapping;

import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A broken interface, mapping, lookup or item-master file: one or more problems, each naming the
 * file, the line and what is wrong. The message is one {@code file: line N: problem} line per
 * problem, which is what start-up, {@code validate} and reload print.
 */
public class ConfigurationException extends RuntimeException {

    /**
     * One problem. {@code file} as the user knows it ({@code mappings/mercy-or.yaml}), null if the
     * text already names it; {@code line} 1-based, 0 when unknown.
     */
    public record Problem(String file, int line, String problem) {
        public Problem {
            Objects.requireNonNull(problem, "problem");
            if (line < 0) {
                throw new IllegalArgumentException("line " + line + " (0 means unknown)");
            }
        }

        /** {@code file: line N: problem}; without the parts that are unknown. */
        @Override
        public String toString() {
            return (file == null ? "" : file + ": ") + (line > 0 ? "line " + line + ": " : "") + problem;
        }
    }

    private final List<Problem> problems;

    /** Problems found together (e.g. every path of a profile that does not exist); at least one. */
    public ConfigurationException(List<Problem> problems) {
        this(problems, null);
    }

    public ConfigurationException(List<Problem> problems, Throwable cause) {
        super(text(problems), cause);
        this.problems = List.copyOf(problems);
    }

    public ConfigurationException(String file, int line, String problem) {
        this(List.of(new Problem(file, line, problem)));
    }

    /** One problem whose text already names file and line ({@code routes/acme.yaml: line 2: …}). */
    public ConfigurationException(String message) {
        this(message, null);
    }

    public ConfigurationException(String message, Throwable cause) {
        this(List.of(new Problem(null, 0, message)), cause);
    }

    /** The problems, in the order found. */
    public List<Problem> problems() {
        return problems;
    }

    private static String text(List<Problem> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a configuration error has at least one problem");
        }
        return problems.stream().map(Problem::toString).collect(Collectors.joining("\n"));
    }
}
