package org.supplyhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.mapping.ConfigurationException;
import org.supplyhub.mapping.ItemMaster;

import java.io.Console;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The integration engineer's commands, run from the hub's jar without starting Spring (no web
 * server, no database, no listeners): {@code validate}, {@code try}, {@code test}, {@code hash-secret}.
 * Exit codes: 0 fine, 1 a problem was found, 2 the command line was wrong.
 */
public final class Cli {

    public static final int OK = 0;
    public static final int FAILED = 1;
    public static final int USAGE = 2;

    static final String USAGE_TEXT = """
            Usage: java -jar hub.jar <command> [options]
              (without a command, the hub starts)

            Commands:
              validate [--routes DIR] [--mappings DIR]
                  Checks every route, profile, lookup table, item master and the recall list; prints a summary, or the
                  problems as "file: line N: problem" (exit 1).
              try INTERFACE FILE... [--only ack|usage|fhir|billing|stock] [--routes DIR] [--mappings DIR]
                  Runs each message in the files through the interface as intake would, stores nothing,
                  and prints JSON: the ACK, the canonical usage, the FHIR resources (validated against
                  base R4), and the billing and stock payloads its destinations would get.
              test [--mappings DIR] [--routes DIR] [--update]
                  Runs every mappings/tests/<interface>/NAME.hl7 and compares the result with
                  NAME.expected.json beside it; prints a diff and exits 1 on any difference.
                  --update writes the expected files.
              hash-secret
                  Reads a client secret (stdin, or a prompt that does not echo) and prints it hashed
                  ({bcrypt}...) for hub.security.clients.<id>.secret.
              rotate-key [--hub.journal.encryption.key=... --hub.journal.encryption.old-keys=...]
                  Re-wraps the journal's data keys and search key under the active key-encryption key
                  (README, Encryption at rest). Connects to the hub's database; with H2, stop the hub first.
              verify-audit [--url JDBC-URL] [--user NAME] [--public-key FILE[,FILE]] [--checkpoints FILE|DIR]
                  Walks the audit hash chain in the journal database and prints a JSON report naming the
                  first broken row (exit 1 if anything is wrong). The database defaults to
                  SPRING_DATASOURCE_URL / _USERNAME / _PASSWORD, else ./data/hub (stop the hub first for H2);
                  checkpoints are checked with the public key (default data/audit-signing-key.pub.pem)
                  and against the exported checkpoint lines (default: the files in data/).
              help
                  This text.

            Defaults: --routes routes, --mappings mappings (relative to the working directory).
            """;

    private static final Set<String> COMMANDS = Set.of("validate", "try", "test", "hash-secret", "verify-audit", "help", "--help",
            "-h");

    private final InputStream in;
    private final PrintStream out;
    private final PrintStream err;
    private final Console console;

    Cli(InputStream in, PrintStream out, PrintStream err, Console console) {
        this.in = in;
        this.out = out;
        this.err = err;
        this.console = console;
    }

    /**
     * Whether the arguments name a command (else the hub starts: no arguments, or Spring's
     * {@code --name=value} options).
     */
    public static boolean isCommand(String[] args) {
        return args.length > 0 && (COMMANDS.contains(args[0]) || !args[0].startsWith("-"));
    }

    /** For {@code main}: runs the command on the process's streams and returns its exit code. */
    public static int main(String[] args) {
        QuietLogging.apply();
        return new Cli(System.in, System.out, System.err, System.console()).run(args);
    }

    /** Runs one command; never throws for a user's mistake. */
    public static int run(String[] args, InputStream in, PrintStream out, PrintStream err) {
        return new Cli(in, out, err, null).run(args);
    }

    int run(String[] args) {
        if (args.length == 0) {
            err.print(USAGE_TEXT);
            return USAGE;
        }
        List<String> rest = List.of(args).subList(1, args.length);
        try {
            return switch (args[0]) {
                case "validate" -> validate(Options.parse(rest, Set.of("--routes", "--mappings"), Set.of()));
                case "try" -> tryMessages(Options.parse(rest, Set.of("--routes", "--mappings", "--only"), Set.of()));
                case "test" -> test(Options.parse(rest, Set.of("--routes", "--mappings"), Set.of("--update")));
                case "hash-secret" -> hashSecret(Options.parse(rest, Set.of(), Set.of()));
                case "verify-audit" -> AuditVerifyCommand.run(Options.parse(rest,
                        Set.of("--url", "--user", "--public-key", "--checkpoints"), Set.of()), System.getenv(), out, err);
                case "help", "--help", "-h" -> {
                    out.print(USAGE_TEXT);
                    yield OK;
                }
                default -> {
                    err.println("unknown command '" + args[0] + "'");
                    err.print(USAGE_TEXT);
                    yield USAGE;
                }
            };
        } catch (Options.UsageException e) {
            err.println(args[0] + ": " + e.getMessage());
            err.print(USAGE_TEXT);
            return USAGE;
        } catch (ConfigurationException e) {
            // one line per problem, as validate prints them; no stack trace
            e.getMessage().lines().forEach(out::println);
            return FAILED;
        }
    }

    private static InterfaceCatalog load(Options options) {
        return InterfaceCatalog.load(Path.of(options.value("--routes", "routes")),
                Path.of(options.value("--mappings", "mappings")));
    }

    private int validate(Options options) {
        options.noArguments();
        // the whole configuration as start-up and reload read it: interfaces and the recall list
        org.supplyhub.config.ConfigSnapshot snapshot = org.supplyhub.config.ConfigSnapshot.load(
                Path.of(options.value("--routes", "routes")), Path.of(options.value("--mappings", "mappings")));
        InterfaceCatalog catalog = snapshot.catalog();
        Map<ItemMaster, Boolean> masters = new IdentityHashMap<>();
        catalog.all().forEach(i -> masters.put(i.mapper().itemMaster(), true));
        int rows = masters.keySet().stream().mapToInt(ItemMaster::size).sum();
        long profiles = catalog.routes().stream().filter(r -> !r.isDestination())
                .map(r -> r.parameters().get("mapping")).distinct().count();
        long lookupTables = catalog.all().stream().map(i -> i.mapper().profile().lookups())
                .filter(java.util.Objects::nonNull).flatMap(l -> l.values().stream()).distinct().count();
        out.println("OK: " + catalog.all().size() + " interfaces, " + catalog.destinations().size()
                + " destinations, " + profiles + " profiles, " + lookupTables + " lookup tables, " + rows
                + " item-master rows, " + snapshot.recalls().size() + " recall rows");
        return OK;
    }

    private int tryMessages(Options options) throws ConfigurationException {
        List<String> arguments = options.arguments();
        if (arguments.size() < 2) {
            throw new Options.UsageException("name the interface and at least one message file");
        }
        Set<DryRun.Part> parts = EnumSet.allOf(DryRun.Part.class);
        String only = options.value("--only", null);
        if (only != null) {
            try {
                parts = EnumSet.of(DryRun.Part.valueOf(only.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new Options.UsageException("--only takes ack, usage, fhir, billing or stock (got '" + only + "')");
            }
        }
        InterfaceCatalog catalog = load(options);
        InterfaceDefinition iface = catalog.find(arguments.get(0)).orElse(null);
        if (iface == null) {
            err.println("try: no interface '" + arguments.get(0) + "' (configured: "
                    + catalog.all().stream().map(InterfaceDefinition::id).toList() + ")");
            return FAILED;
        }
        DryRun dryRun = new DryRun(catalog);
        List<ObjectNode> results = new ArrayList<>();
        for (String name : arguments.subList(1, arguments.size())) {
            Path file = Path.of(name);
            List<byte[]> messages;
            try {
                messages = MessageFiles.read(file);
            } catch (IOException e) {
                err.println("try: cannot read " + name + ": " + e.getClass().getSimpleName());
                return FAILED;
            }
            if (messages.isEmpty()) {
                err.println("try: " + name + " holds no message");
                return FAILED;
            }
            for (int i = 0; i < messages.size(); i++) {
                results.add(dryRun.run(iface, file.getFileName().toString(), i + 1, messages.get(i), parts, false));
            }
        }
        JsonNode printed;
        if (only != null) {
            // just the part: the value itself for one message, a list for several
            List<JsonNode> values = results.stream().map(r -> r.has(only) ? r.get(only) : r).toList();
            printed = values.size() == 1 ? values.get(0) : DryRun.JSON.createArrayNode().addAll(values);
        } else {
            ObjectNode document = DryRun.JSON.createObjectNode();
            document.put("interface", iface.id());
            ArrayNode list = document.putArray("messages");
            results.forEach(list::add);
            printed = document;
        }
        out.println(pretty(printed));
        return OK;
    }

    private int test(Options options) {
        options.noArguments();
        Path mappings = Path.of(options.value("--mappings", "mappings"));
        InterfaceCatalog catalog = load(options);
        MappingTests.Summary summary = new MappingTests(catalog, new DryRun(catalog), out)
                .run(mappings.resolve("tests"), options.flag("--update"));
        return summary.failed() == 0 ? OK : FAILED;
    }

    private int hashSecret(Options options) throws Options.UsageException {
        options.noArguments();
        String secret;
        if (console != null) {
            char[] first = console.readPassword("Secret: ");
            char[] again = console.readPassword("Again: ");
            if (first == null || again == null || !java.util.Arrays.equals(first, again)) {
                err.println("hash-secret: the two entries differ");
                return FAILED;
            }
            secret = new String(first);
        } else {
            try {
                secret = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                err.println("hash-secret: cannot read stdin: " + e.getClass().getSimpleName());
                return FAILED;
            }
            // the line end echo or a file adds is not part of the secret
            secret = secret.endsWith("\r\n") ? secret.substring(0, secret.length() - 2)
                    : secret.endsWith("\n") ? secret.substring(0, secret.length() - 1) : secret;
        }
        if (secret.isEmpty()) {
            err.println("hash-secret: the secret is empty");
            return FAILED;
        }
        // Spring Authorization Server checks client secrets with this delegating encoder ({bcrypt} by default)
        out.println(PasswordEncoderFactories.createDelegatingPasswordEncoder().encode(secret));
        return OK;
    }

    static String pretty(JsonNode node) {
        try {
            return DryRun.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Options ({@code --name value}, flags) and positional arguments. */
    static final class Options {
        private final Map<String, String> values;
        private final Set<String> flags;
        private final List<String> arguments;

        private Options(Map<String, String> values, Set<String> flags, List<String> arguments) {
            this.values = values;
            this.flags = flags;
            this.arguments = arguments;
        }

        static Options parse(List<String> args, Set<String> valued, Set<String> flagNames) throws UsageException {
            Map<String, String> values = new LinkedHashMap<>();
            Set<String> flags = new java.util.HashSet<>();
            List<String> arguments = new ArrayList<>();
            for (int i = 0; i < args.size(); i++) {
                String a = args.get(i);
                String name = a.contains("=") && a.startsWith("--") ? a.substring(0, a.indexOf('=')) : a;
                if (valued.contains(name)) {
                    String value = a.contains("=") ? a.substring(a.indexOf('=') + 1)
                            : i + 1 < args.size() ? args.get(++i) : null;
                    if (value == null || value.isEmpty()) {
                        throw new UsageException(name + " needs a value");
                    }
                    values.put(name, value);
                } else if (flagNames.contains(a)) {
                    flags.add(a);
                } else if (a.startsWith("-")) {
                    throw new UsageException("unknown option " + a);
                } else {
                    arguments.add(a);
                }
            }
            return new Options(values, flags, Collections.unmodifiableList(arguments));
        }

        String value(String name, String fallback) {
            return values.getOrDefault(name, fallback);
        }

        boolean flag(String name) {
            return flags.contains(name);
        }

        List<String> arguments() {
            return arguments;
        }

        void noArguments() throws UsageException {
            if (!arguments.isEmpty()) {
                throw new UsageException("unexpected argument " + arguments.get(0));
            }
        }

        /** The command line is wrong: usage and exit 2. */
        static final class UsageException extends RuntimeException {
            UsageException(String message) {
                super(message);
            }
        }
    }
}
