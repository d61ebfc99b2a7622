package org.supplyhub;

import org.supplyhub.mapping.ConfigurationException;
import org.supplyhub.mapping.YamlLines;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.beans.factory.BeanCreationException;
import org.supplyhub.SupplyHubApplication;
import org.supplyhub.support.TestInterfaces;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A start-up stopped by broken configuration says which file and line, once, without a stack trace. */
@ExtendWith(OutputCaptureExtension.class)
class ConfigurationFailureAnalyzerTest {

    private final ConfigurationFailureAnalyzer analyzer = new ConfigurationFailureAnalyzer();

    @Test
    void problemsAreListedOnePerLine() {
        ConfigurationException e = new ConfigurationException(List.of(
                new ConfigurationException.Problem("mappings/acme.yaml", 12, "segment PTR does not exist in DFT_P03 (v2.8); did you mean PRT?"),
                new ConfigurationException.Problem("mappings/codes.csv", 0, "has no header")));
        FailureAnalysis analysis = analyzer.analyze(new BeanCreationException("interfaceCatalog", "wrapped", e));

        assertThat(analysis.getDescription()).isEqualTo("""
                The configuration has 2 problems:

                mappings/acme.yaml: line 12: segment PTR does not exist in DFT_P03 (v2.8); did you mean PRT?
                mappings/codes.csv: has no header""");
        assertThat(analysis.getAction()).startsWith("Correct the files named above and start again.")
                .contains("validate");
        assertThat(analysis.getCause()).isSameAs(e);
    }

    @Test
    void theInnermostProblemNamesTheFileThatIsWrong() {
        ConfigurationException inner = new ConfigurationException("mappings/item-master.csv", 3, "gtin '1' is not a valid GTIN");
        ConfigurationException outer = new ConfigurationException("routes/acme.yaml: line 4: interface 'acme': " + inner.getMessage(), inner);
        FailureAnalysis analysis = analyzer.analyze(new BeanCreationException("interfaceCatalog", "wrapped", outer));
        assertThat(analysis.getDescription()).endsWith("\n\nmappings/item-master.csv: line 3: gtin '1' is not a valid GTIN");
        assertThat(analysis.getCause()).isSameAs(inner);
    }

    @Test
    void otherFailuresAreLeftToSpring() {
        assertThat(analyzer.analyze(new IllegalStateException("port in use"))).isNull();
    }

    @Test
    void problemTextAndTheOldConstructors() {
        assertThat(new ConfigurationException.Problem("routes/a.yaml", 3, "bad port")).hasToString("routes/a.yaml: line 3: bad port");
        assertThat(new ConfigurationException.Problem("routes/a.yaml", 0, "bad port")).hasToString("routes/a.yaml: bad port");
        ConfigurationException old = new ConfigurationException("routes/a.yaml: line 3: bad port", new IOException("x"));
        assertThat(old.problems()).containsExactly(new ConfigurationException.Problem(null, 0, "routes/a.yaml: line 3: bad port"));
        assertThat(old).hasMessage("routes/a.yaml: line 3: bad port").hasCauseInstanceOf(IOException.class);
        assertThat(new ConfigurationException("mappings/a.yaml", 7, "unknown key 'x'"))
                .hasMessage("mappings/a.yaml: line 7: unknown key 'x'");
        assertThatThrownBy(() -> new ConfigurationException(List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theHubStartingOnABrokenProfilePrintsTheLineOnce(@TempDir Path dir, CapturedOutput output) throws IOException {
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        Path mappings = Files.createDirectories(dir.resolve("mappings"));
        try (Stream<Path> files = Files.list(interfaces.mappingsDir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, mappings.resolve(f.getFileName()));
            }
        }
        Path profile = mappings.resolve("mercy-or.yaml");
        Files.writeString(profile, Files.readString(profile).replace("  quantity: FT1-10", "  quantty: FT1-10"));
        int line = YamlLines.read(profile).lineOf("line", "quantty");

        assertThatThrownBy(() -> new SpringApplicationBuilder(SupplyHubApplication.class).run(
                "--hub.routes-dir=" + interfaces.routesDir, "--hub.mappings-dir=" + mappings, "--server.port=0",
                "--spring.datasource.url=jdbc:h2:mem:broken-config;DB_CLOSE_DELAY=-1"))
                .isInstanceOf(BeanCreationException.class);

        String problem = "mappings/mercy-or.yaml: line " + line + ": unknown key 'quantty'";
        String out = output.getAll();
        assertThat(out).contains("APPLICATION FAILED TO START").contains(problem)
                .contains("Correct the file named above and start again.");
        assertThat(out.split(java.util.regex.Pattern.quote(problem), -1)).as("the problem is printed once").hasSize(2);
        assertThat(out).as("no stack trace").doesNotContain("\tat ").doesNotContain("Caused by:");
    }
}
