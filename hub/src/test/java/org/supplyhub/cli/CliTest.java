package org.supplyhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.security.crypto.factory.PasswordEncoderFactories;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line, run in-process on the repository's routes and mappings (and broken copies of them). */
class CliTest {

    static final Path ROOT = TestInterfaces.projectRoot();
    static final String ROUTES = ROOT.resolve("routes").toString();
    static final String MAPPINGS = ROOT.resolve("mappings").toString();

    @TempDir
    Path tmp;

    record Run(int exit, String out, String err) {
        JsonNode json() throws IOException {
            return DryRun.JSON.readTree(out);
        }
    }

    static Run withInput(String stdin, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Cli.run(args, new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Run cli(String... args) {
        return withInput("", args);
    }

    Path sample(String name) throws IOException {
        Path file = tmp.resolve(name);
        Files.writeString(file, Samples.read(name), StandardCharsets.UTF_8);
        return file;
    }

    /** A copy of routes/ and mappings/ to break. */
    Path copyConfig() throws IOException {
        Path root = tmp.resolve("config");
        for (String dir : new String[] {"routes", "mappings"}) {
            try (Stream<Path> files = Files.walk(ROOT.resolve(dir))) {
                for (Path f : files.toList()) {
                    Path target = root.resolve(dir).resolve(ROOT.resolve(dir).relativize(f).toString());
                    if (Files.isDirectory(f)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(f, target);
                    }
                }
            }
        }
        return root;
    }

    // --- dispatch

    @Test
    void noCommandOrAnUnknownOnePrintsTheUsageAndExits2() {
        Run none = cli();
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("Usage:", "validate", "try", "test", "hash-secret");
        Run unknown = cli("valdate");
        assertThat(unknown.exit()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown command 'valdate'", "Usage:");
        Run badOption = cli("validate", "--route", ROUTES);
        assertThat(badOption.exit()).isEqualTo(2);
        assertThat(badOption.err()).contains("unknown option --route");
    }

    @Test
    void helpPrintsTheUsage() {
        Run help = cli("--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("Usage:", "--only ack|usage|fhir|billing|stock", "--update");
    }

    @Test
    void onlyCommandsBypassSpring() {
        assertThat(Cli.isCommand(new String[0])).isFalse();
        assertThat(Cli.isCommand(new String[] {"--server.port=9090"})).isFalse();
        assertThat(Cli.isCommand(new String[] {"validate"})).isTrue();
        assertThat(Cli.isCommand(new String[] {"--help"})).isTrue();
        assertThat(Cli.isCommand(new String[] {"valdate"})).isTrue(); // answered with the usage, not a server
    }

    // --- validate

    @Test
    void validatePrintsASummaryOfTheRepositorysConfiguration() {
        Run run = cli("validate", "--routes", ROUTES, "--mappings", MAPPINGS);
        assertThat(run.exit()).as(run.out() + run.err()).isZero();
        InterfaceCatalog catalog = InterfaceCatalog.load(ROOT.resolve("routes"), ROOT.resolve("mappings"));
        int interfaces = catalog.all().size();
        assertThat(run.out().lines().toList()).singleElement().satisfies(line -> assertThat(line).startsWith(
                "OK: " + interfaces + " interfaces, " + catalog.destinations().size() + " destinations, "
                        + interfaces + " profiles, ").containsPattern("[1-9]\\d* item-master rows"));
    }

    @Test
    void validateNamesTheFileAndLineOfAMisspeltProfileWithoutAStackTrace() throws IOException {
        Path config = copyConfig();
        Path route = config.resolve("routes/mercy-or.yaml");
        Files.writeString(route, Files.readString(route).replace("value: mercy-or.yaml", "value: mercy-orr.yaml"));
        Run run = cli("validate", "--routes", config.resolve("routes").toString(),
                "--mappings", config.resolve("mappings").toString());
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).containsPattern("(?m)^routes/mercy-or\\.yaml: line \\d+: .*mercy-orr\\.yaml");
        assertThat(run.out() + run.err()).doesNotContain("\tat org.", "Exception");
    }

    @Test
    void validateReportsAMissingDirectory() {
        Run run = cli("validate", "--routes", tmp.resolve("nowhere").toString(), "--mappings", MAPPINGS);
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.out()).contains("nowhere", "does not exist");
    }

    // --- try

    @Test
    void tryPrintsTheAckUsageFhirBillingAndStockOfAMessage() throws IOException {
        Run run = cli("try", "mercy-or", sample(Samples.MERCY).toString(), "--routes", ROUTES, "--mappings", MAPPINGS);
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode doc = run.json();
        assertThat(doc.path("interface").asText()).isEqualTo("mercy-or");
        JsonNode m = doc.path("messages").path(0);
        assertThat(m.path("file").asText()).isEqualTo(Samples.MERCY);
        assertThat(m.path("ackCode").asText()).isEqualTo("AA");
        assertThat(m.path("ack").path(1).asText()).startsWith("MSA|AA|OR20261114093512001");
        assertThat(m.path("usage").path("lines")).hasSize(3);
        assertThat(m.path("usage").path("controlId").asText()).isEqualTo("OR20261114093512001");
        JsonNode fhir = m.path("fhir");
        assertThat(fhir.path("errors").asInt()).as(fhir.path("issues").toString()).isZero();
        assertThat(fhir.path("resources").size()).isGreaterThanOrEqualTo(6);
        for (JsonNode r : fhir.path("resources")) {
            R4Validator.assertValid(r.toString());
        }
        JsonNode billing = m.path("billing");
        assertThat(billing).hasSize(1);
        assertThat(billing.path(0).path("destination").asText()).isEqualTo("mercy-billing");
        assertThat(billing.path(0).path("payload").path(0).asText()).startsWith("MSH|^~\\&|SUPPLYHUB|HUB|PATACCT|MERCY|");
        assertThat(billing.path(0).path("payload").toString()).contains("FT1|1|TX-88120-1");
        JsonNode stock = m.path("stock");
        assertThat(stock.path(0).path("destination").asText()).isEqualTo("mercy-inventory");
        assertThat(stock.path(0).path("payload").path("movements")).hasSize(3);
    }

    @Test
    void tryOnlyPrintsOnePart() throws IOException {
        Run run = cli("try", "lakeside-cath", sample(Samples.LAKESIDE).toString(), "--only", "stock",
                "--routes", ROUTES, "--mappings", MAPPINGS);
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode stock = run.json();
        assertThat(stock.isArray()).isTrue();
        assertThat(stock.path(0).path("destination").asText()).isEqualTo("lakeside-inventory");
        assertThat(stock.path(0).path("payload").path("movements").path(0).path("udi").asText()).contains("00643169001763");
        assertThat(cli("try", "lakeside-cath", sample(Samples.LAKESIDE).toString(), "--only", "dft").exit()).isEqualTo(2);
    }

    @Test
    void tryTakesSeveralMessagesInAFileAndMllpFrames() throws IOException {
        String mercy = Samples.read(Samples.MERCY);
        String credit = Samples.read(Samples.MERCY_CREDIT);
        Path lines = tmp.resolve("two.hl7");
        // as saved by an editor: LF segment ends, the second message right after the first
        Files.writeString(lines, (mercy + "\r" + credit).replace('\r', '\n'));
        Path framed = tmp.resolve("framed.mllp");
        Files.writeString(framed, "\u000b" + mercy + "\u001c\r\u000b" + credit + "\u001c\r");
        for (Path file : new Path[] {lines, framed}) {
            Run run = cli("try", "mercy-or", file.toString(), "--only", "usage", "--routes", ROUTES, "--mappings", MAPPINGS);
            assertThat(run.exit()).as(run.err()).isZero();
            JsonNode usages = run.json();
            assertThat(usages).hasSize(2);
            assertThat(usages.path(0).path("controlId").asText()).isEqualTo("OR20261114093512001");
            assertThat(usages.path(1).path("lines").path(0).path("kind").asText()).isEqualTo("CREDIT");
        }
    }

    @Test
    void tryShowsTheAckAndErrorOfAMessageIntakeWouldNotAccept() throws IOException {
        Path unknownItem = tmp.resolve("unknown-item.hl7");
        Files.writeString(unknownItem, Samples.read(Samples.MERCY).replace("270004512^SUTURE", "999999999^SUTURE"));
        Path otherSender = tmp.resolve("other-sender.hl7");
        Files.writeString(otherSender, Samples.read(Samples.MERCY).replace("|ORMGR|MERCY_OR|", "|ORMGR|ELSEWHERE|"));
        Run run = cli("try", "mercy-or", unknownItem.toString(), otherSender.toString(), "--routes", ROUTES,
                "--mappings", MAPPINGS);
        assertThat(run.exit()).as(run.err()).isZero();
        JsonNode ae = run.json().path("messages").path(0);
        assertThat(ae.path("ackCode").asText()).isEqualTo("AE");
        assertThat(ae.path("error").asText()).contains("999999999");
        assertThat(ae.path("ack").toString()).contains("MSA|AE|", "ERR|");
        assertThat(ae.has("usage")).isFalse();
        JsonNode ar = run.json().path("messages").path(1);
        assertThat(ar.path("ackCode").asText()).isEqualTo("AR");
        assertThat(ar.path("refusal").asText()).isEqualTo("sender");
        assertThat(ar.path("error").asText()).contains("not accepted on interface mercy-or");
    }

    @Test
    void tryRefusesAnUnknownInterfaceOrFile() {
        Run iface = cli("try", "mercy", ROOT.resolve("routes/mercy-or.yaml").toString(), "--routes", ROUTES,
                "--mappings", MAPPINGS);
        assertThat(iface.exit()).isEqualTo(1);
        assertThat(iface.err()).contains("no interface 'mercy'", "mercy-or", "lakeside-cath");
        Run file = cli("try", "mercy-or", tmp.resolve("missing.hl7").toString(), "--routes", ROUTES, "--mappings", MAPPINGS);
        assertThat(file.exit()).isEqualTo(1);
        assertThat(file.err()).contains("cannot read", "missing.hl7");
    }

    // --- test

    @Test
    void testPassesOnTheShippedExpectedFilesAndFailsWithADiffOnAChange() throws IOException {
        Path config = copyConfig();
        String routes = config.resolve("routes").toString();
        String mappings = config.resolve("mappings").toString();
        Run passing = cli("test", "--routes", routes, "--mappings", mappings);
        assertThat(passing.exit()).as(passing.out()).isZero();
        assertThat(passing.out()).contains("PASS mercy-or/dft-p03-v251-zim.hl7").containsPattern("\\d+ passed, 0 failed");

        Path expected = config.resolve("mappings/tests/mercy-or/dft-p03-v251-zim.expected.json");
        Files.writeString(expected, Files.readString(expected).replace("\"TX-88120-3\"", "\"TX-88120-9\""));
        Run failing = cli("test", "--routes", routes, "--mappings", mappings);
        assertThat(failing.exit()).isEqualTo(1);
        assertThat(failing.out()).contains("FAIL mercy-or/dft-p03-v251-zim.hl7")
                .containsPattern("/messages/0/usage/lines/2/transactionId: \"TX-88120-9\" → \"TX-88120-3\"")
                .containsPattern("\\d+ passed, 1 failed");

        Run update = cli("test", "--routes", routes, "--mappings", mappings, "--update");
        assertThat(update.exit()).isZero();
        assertThat(update.out()).contains("WROTE mercy-or/dft-p03-v251-zim.expected.json");
        assertThat(Files.readString(expected)).contains("\"TX-88120-3\"").doesNotContain("TX-88120-9");
        assertThat(cli("test", "--routes", routes, "--mappings", mappings).exit()).isZero();
    }

    @Test
    void testFailsOnAMessageWithoutExpectedFileAndUpdateWritesIt() throws IOException {
        Path config = copyConfig();
        String routes = config.resolve("routes").toString();
        String mappings = config.resolve("mappings").toString();
        Path input = config.resolve("mappings/tests/mercy-or/second-credit.hl7");
        Files.writeString(input, Samples.withControlId(Samples.read(Samples.MERCY_CREDIT), "OR-NEW-1"));
        Run missing = cli("test", "--routes", routes, "--mappings", mappings);
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.out()).contains("FAIL mercy-or/second-credit.hl7: no second-credit.expected.json");

        assertThat(cli("test", "--routes", routes, "--mappings", mappings, "--update").exit()).isZero();
        JsonNode written = DryRun.JSON.readTree(input.resolveSibling("second-credit.expected.json").toFile());
        JsonNode message = written.path("messages").path(0);
        assertThat(message.path("controlId").asText()).isEqualTo("OR-NEW-1");
        // what the hub makes up per run is normalised, so the file stays the same from run to run
        assertThat(message.path("ack").path(0).asText().split("\\|")[6]).isEqualTo(DryRun.GENERATED);
        assertThat(message.path("ack").path(0).asText().split("\\|")[9]).isEqualTo(DryRun.GENERATED);
        assertThat(cli("test", "--routes", routes, "--mappings", mappings).exit()).isZero();
    }

    // --- hash-secret

    @Test
    void hashSecretPrintsAHashTheIssuerAccepts() {
        Run run = withInput("s3cret-value\n", "hash-secret");
        assertThat(run.exit()).as(run.err()).isZero();
        String hash = run.out().strip();
        assertThat(hash).startsWith("{bcrypt}$2a$10$").doesNotContain("s3cret");
        assertThat(PasswordEncoderFactories.createDelegatingPasswordEncoder().matches("s3cret-value", hash)).isTrue();
        assertThat(PasswordEncoderFactories.createDelegatingPasswordEncoder().matches("s3cret-value\n", hash)).isFalse();
    }

    @Test
    void hashSecretRefusesAnEmptySecret() {
        Run run = withInput("\n", "hash-secret");
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err()).contains("empty");
    }
}
