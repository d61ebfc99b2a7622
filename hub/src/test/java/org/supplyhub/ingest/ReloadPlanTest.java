package org.supplyhub.ingest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.supplyhub.config.ConfigFiles;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.support.TestInterfaces;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

import static org.assertj.core.api.Assertions.assertThat;

/** Which routes a reload stops, starts and restarts: pure logic over two loaded catalogs, no Spring. */
class ReloadPlanTest {

    @TempDir
    Path dir;

    Path routes;
    Path mappings;

    InterfaceCatalog shipped() throws IOException {
        Path root = TestInterfaces.projectRoot();
        routes = Files.createDirectories(dir.resolve("routes"));
        mappings = Files.createDirectories(dir.resolve("mappings"));
        for (String sub : new String[] {"routes", "mappings"}) {
            try (var files = Files.list(root.resolve(sub))) {
                for (Path f : files.filter(Files::isRegularFile).toList()) {
                    Files.copy(f, dir.resolve(sub).resolve(f.getFileName()));
                }
            }
        }
        return InterfaceCatalog.load(routes, mappings);
    }

    InterfaceCatalog edited(Path file, UnaryOperator<String> edit) throws IOException {
        Files.writeString(file, edit.apply(Files.readString(file)));
        return InterfaceCatalog.load(routes, mappings);
    }

    @Test
    void theSameFilesChangeNoRoute() throws IOException {
        InterfaceCatalog before = shipped();
        assertThat(ConfigReloader.Plan.of(before, InterfaceCatalog.load(routes, mappings)).isEmpty()).isTrue();
    }

    @Test
    void whatIsReadPerMessageOrPollRestartsNothing() throws IOException {
        InterfaceCatalog before = shipped();
        InterfaceCatalog after = edited(routes.resolve("mercy-or.yaml"), t -> t
                .replace("mercy-billing, mercy-inventory, fhir-server", "mercy-billing, fhir-server")
                .replace("value: Mercy OR supply usage", "value: Mercy OR supply usage, edited"));
        after = edited(routes.resolve("destinations.yaml"), t -> t.replace("data/out/inventory", "data/out/stock"));
        after = edited(mappings.resolve("mercy-or.yaml"), t -> t.replace("separator: \"-\"", "separator: \"/\""));

        ConfigReloader.Plan plan = ConfigReloader.Plan.of(before, after);

        assertThat(plan.isEmpty()).isTrue();
        assertThat(after.get("mercy-or").destinations()).containsExactly("mercy-billing", "fhir-server");
    }

    @Test
    void aNewPortRestartsThatListenerOnlyAndFilesAddOrRemoveRoutes() throws IOException {
        InterfaceCatalog before = shipped();
        InterfaceCatalog after = edited(routes.resolve("mercy-or.yaml"), t -> t.replace("\"2575\"", "\"2585\""));
        Files.delete(routes.resolve("lakeside-cath.yaml"));
        Files.writeString(routes.resolve("extra.yaml"), AbstractLiveReloadTest.extraInterface(2590, "mapping"));
        after = InterfaceCatalog.load(routes, mappings);

        ConfigReloader.Plan plan = ConfigReloader.Plan.of(before, after);

        assertThat(plan.keys(plan.changedNew())).containsExactly("interface:mercy-or");
        assertThat(plan.keys(plan.removed())).containsExactly("interface:lakeside-cath");
        assertThat(plan.keys(plan.added())).containsExactly("interface:extra-or");
        assertThat(plan.changedNew().get(0).parameters()).containsEntry("port", "2585");
    }

    @Test
    void aFileWithRoutesOfItsOwnIsKnown() throws IOException {
        assertThat(shipped().filesWithOtherRoutes()).isEmpty();
        Files.writeString(routes.resolve("extra.yaml"), AbstractLiveReloadTest.extraInterface(2590, "mapping")
                + "- route:\n    from:\n      uri: file:data/in/extra\n      steps:\n        - to: direct:hl7-extra-or\n");
        assertThat(InterfaceCatalog.load(routes, mappings).filesWithOtherRoutes()).containsExactly("routes/extra.yaml");
    }

    @Test
    void theMappingTestsAreNotConfiguration() throws IOException {
        shipped();
        Files.createDirectories(mappings.resolve("tests/mercy-or"));
        Files.writeString(mappings.resolve("tests/mercy-or/a.hl7"), "MSH|");
        assertThat(ConfigFiles.hashes(routes, mappings)).containsKey("mappings/mercy-or.yaml")
                .containsKey("routes/destinations.yaml").doesNotContainKey("mappings/tests/mercy-or/a.hl7");
    }
}
