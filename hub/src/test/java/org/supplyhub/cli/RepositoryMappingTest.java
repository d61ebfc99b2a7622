package org.supplyhub.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.TestInterfaces;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The repository's mapping tests ({@code mappings/tests/<interface>/NAME.hl7} against
 * {@code NAME.expected.json}) run with every build: {@code test} must find no difference, and every
 * FHIR resource an expected file holds must pass the base R4 validator.
 */
class RepositoryMappingTest {

    static final Path ROOT = TestInterfaces.projectRoot();

    @Test
    void everyMappingTestPasses() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int exit = Cli.run(new String[] {"test", "--routes", ROOT.resolve("routes").toString(),
                        "--mappings", ROOT.resolve("mappings").toString()}, InputStream.nullInputStream(),
                new PrintStream(out, true, StandardCharsets.UTF_8), System.err);
        String report = out.toString(StandardCharsets.UTF_8);
        assertThat(exit).as(report).isZero();
        assertThat(report).doesNotContain("FAIL").containsPattern("[1-9]\\d* passed, 0 failed");
    }

    @Test
    void theSampleMessagesHaveTestsAndTheirFhirResourcesAreValid() throws IOException {
        List<Path> expected;
        try (Stream<Path> files = Files.walk(ROOT.resolve("mappings/tests"))) {
            expected = files.filter(p -> p.toString().endsWith(MappingTests.EXPECTED)).sorted().toList();
        }
        assertThat(expected.stream().map(p -> p.getParent().getFileName() + "/" + p.getFileName()))
                .contains("mercy-or/dft-p03-v251-zim.expected.json", "mercy-or/dft-p03-v251-credit.expected.json",
                        "lakeside-cath/dft-p03-v28-prt.expected.json");
        int resources = 0;
        for (Path file : expected) {
            for (JsonNode message : DryRun.JSON.readTree(file.toFile()).path("messages")) {
                JsonNode fhir = message.path("fhir");
                assertThat(fhir.path("errors").asInt()).as(file + " " + fhir.path("issues")).isZero();
                for (JsonNode r : fhir.path("resources")) {
                    R4Validator.assertValid(r.toString());
                    resources++;
                }
            }
        }
        assertThat(resources).isPositive();
    }
}
