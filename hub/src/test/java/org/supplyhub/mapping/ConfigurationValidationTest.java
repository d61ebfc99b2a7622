package org.supplyhub.mapping;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.support.TestInterfaces;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Broken interface and mapping files stop start-up with the file, the line and the problem. */
class ConfigurationValidationTest {

    @TempDir
    Path dir;

    Path routes;
    Path mappings;

    void setUp() throws IOException {
        routes = Files.createDirectories(dir.resolve("routes"));
        mappings = Files.createDirectories(dir.resolve("mappings"));
        Path shipped = TestInterfaces.projectRoot().resolve("mappings");
        for (String f : new String[] {"mercy-or.yaml", "item-master.csv"}) {
            Files.copy(shipped.resolve(f), mappings.resolve(f));
        }
    }

    void route(String name, String yaml) throws IOException {
        Files.writeString(routes.resolve(name), yaml);
    }

    static String mllp(String id, String port, String extra) {
        return """
                - templatedRoute:
                    routeTemplateRef: hl7-mllp-inbound
                    parameters:
                      - name: interfaceId
                        value: %s
                      - name: port
                        value: "%s"
                      - name: mapping
                        value: mercy-or.yaml
                %s""".formatted(id, port, extra);
    }

    @Test
    void theShippedInterfacesLoad() {
        Path root = TestInterfaces.projectRoot();
        InterfaceCatalog catalog = InterfaceCatalog.load(root.resolve("routes"), root.resolve("mappings"));
        assertThat(catalog.all()).extracting(i -> i.id()).containsExactlyInAnyOrder("mercy-or", "lakeside-cath",
                "riverside-ir", "valley-cath");
        assertThat(catalog.get("mercy-or").mllpPort()).isEqualTo(2575);
        assertThat(catalog.get("lakeside-cath").mllpPort()).isEqualTo(2576);
        assertThat(catalog.get("riverside-ir").mllpPort()).isEqualTo(2577);
        assertThat(catalog.get("valley-cath").mllpPort()).isEqualTo(2578);
    }

    @Test
    void unknownTemplateParameterNamesFileAndLine() throws IOException {
        setUp();
        route("acme.yaml", mllp("acme", "3000", "      - name: prot\n        value: \"1\"\n"));
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .isInstanceOf(ConfigurationException.class)
                .hasMessageContaining("routes/acme.yaml: line 2:")
                .hasMessageContaining("no parameter 'prot'");
    }

    @Test
    void badPortAndDuplicatePortAreCaught() throws IOException {
        setUp();
        route("a.yaml", mllp("a", "99999", ""));
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .hasMessageContaining("routes/a.yaml").hasMessageContaining("'port' must be a TCP port");
        route("a.yaml", mllp("a", "3001", ""));
        route("b.yaml", mllp("b", "3001", ""));
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .hasMessageContaining("routes/b.yaml").hasMessageContaining("port 3001 is already used by interface 'a'");
    }

    static String destination(String connector, String url) {
        return """
                - templatedRoute:
                    routeTemplateRef: outbox-delivery
                    parameters:
                      - name: destination
                        value: acme-billing
                      - name: connector
                        value: %s
                      - name: output
                        value: %s
                      - name: url
                        value: "%s"
                """.formatted(connector, connector.equals("mllp") ? "charges" : "stock", url);
    }

    @Test
    void aDestinationUrlMustHaveItsConnectorsSchemeExactly() throws IOException {
        setUp();
        // mllps:// used to pass as "starts with mllp" and was then sent in clear: outbound MLLP has no TLS
        for (String url : new String[] {"mllps://billing.example.org:6661", "mllpx://billing.example.org:6661",
                "http://billing.example.org:6661"}) {
            route("dest.yaml", destination("mllp", url));
            assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings)).as(url)
                    .isInstanceOf(ConfigurationException.class)
                    .hasMessageContaining("routes/dest.yaml")
                    .hasMessageContaining("outbound MLLP has no TLS");
        }
        route("dest.yaml", destination("http", "httpx://stock.example.org/api"));
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .isInstanceOf(ConfigurationException.class).hasMessageContaining("needs a 'url' like https://");
        route("dest.yaml", destination("mllp", "MLLP://billing.example.org:6661"));
        assertThat(InterfaceCatalog.load(routes, mappings).destinations()).extracting(d -> d.url().getHost())
                .containsExactly("billing.example.org");
        route("dest.yaml", destination("http", "https://stock.example.org/api"));
        assertThat(InterfaceCatalog.load(routes, mappings).destinations()).extracting(d -> d.url().getScheme())
                .containsExactly("https");
    }

    @Test
    void everyProblemOfEveryFileIsListedOnceInOneRun() throws IOException {
        setUp();
        String profile = Files.readString(mappings.resolve("mercy-or.yaml")).replace("  quantity: FT1-10", "  quantty: FT1-10");
        Files.writeString(mappings.resolve("mercy-or.yaml"), profile);
        // two interfaces share the broken profile; a third route is broken on its own; a fourth is fine
        route("a.yaml", mllp("a", "3010", ""));
        route("b.yaml", mllp("b", "3011", ""));
        route("c.yaml", mllp("c", "3012", "      - name: prot\n        value: \"1\"\n"));
        route("d.yaml", mllp("d", "3013", "").replace("mercy-or.yaml", "nope.yaml"));
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .isInstanceOfSatisfying(ConfigurationException.class, e -> {
                    assertThat(e.problems()).extracting(ConfigurationException.Problem::toString)
                            .filteredOn(p -> p.contains("unknown key 'quantty'")).hasSize(1)
                            .allMatch(p -> p.startsWith("mappings/mercy-or.yaml: line " + lineOf(profile, "quantty")));
                    assertThat(e.getMessage()).contains("routes/c.yaml: line 2:", "no parameter 'prot'")
                            .contains("routes/d.yaml: line 2:", "mapping file mappings/nope.yaml not found");
                    assertThat(e.problems()).hasSize(3);
                });
    }

    @Test
    void brokenYamlIsReportedWithItsFile() throws IOException {
        setUp();
        route("broken.yaml", "- templatedRoute:\n    routeTemplateRef: [unclosed\n");
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .hasMessageContaining("routes/broken.yaml: not valid YAML");
    }

    @Test
    void unknownMappingKeyNamesFileAndLine() throws IOException {
        setUp();
        String profile = Files.readString(mappings.resolve("mercy-or.yaml")).replace("  quantity: FT1-10", "  quantty: FT1-10");
        Files.writeString(mappings.resolve("mercy-or.yaml"), profile);
        route("acme.yaml", mllp("acme", "3002", ""));
        int line = lineOf(profile, "quantty");
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .hasMessageContaining("mappings/mercy-or.yaml: line " + line + ": unknown key 'quantty'");
    }

    @Test
    void badTerserPathAndMissingRequiredFieldsAreListed() throws IOException {
        setUp();
        String profile = Files.readString(mappings.resolve("mercy-or.yaml"))
                .replace("transactionId: FT1-2", "transactionId: FT1_2")
                .replace("  quantity: FT1-10\n", "");
        Files.writeString(mappings.resolve("mercy-or.yaml"), profile);
        route("acme.yaml", mllp("acme", "3003", ""));
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .hasMessageContaining("mappings/mercy-or.yaml")
                .hasMessageContaining("'FT1_2' is not a Terser path")
                .hasMessageContaining("line.quantity is required");
    }

    @Test
    void badItemMasterRowNamesItsLine() throws IOException {
        setUp();
        Files.writeString(mappings.resolve("item-master.csv"), Files.readString(mappings.resolve("item-master.csv"))
                .replace("10080196123452", "10080196123453"));
        route("acme.yaml", mllp("acme", "3004", ""));
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .hasMessageContaining("mappings/item-master.csv: line 3: gtin '10080196123453' is not a valid GTIN");
    }

    @Test
    void itemMasterValuesThatBecomeCodesOrAmountsAreChecked() throws IOException {
        setUp();
        String csv = Files.readString(mappings.resolve("item-master.csv"));
        route("acme.yaml", mllp("acme", "3004", ""));
        Files.writeString(mappings.resolve("item-master.csv"), csv.replace(",9.20,", ",1E400,"));
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .hasMessageContaining("mappings/item-master.csv: line 2: unit_price '1E400' is not a number");
        Files.writeString(mappings.resolve("item-master.csv"), csv.replace("270004512,", "2700  04512,"));
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .hasMessageContaining("mappings/item-master.csv: line 2: charge_code is not a code");
    }

    @Test
    void profileSystemsMustBeAbsoluteUris() throws IOException {
        setUp();
        Files.writeString(mappings.resolve("mercy-or.yaml"), Files.readString(mappings.resolve("mercy-or.yaml"))
                .replace("transaction: https://fhir.mercy.example.org/sid/or-transaction", "transaction: OR transactions"));
        route("acme.yaml", mllp("acme", "3004", ""));
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .hasMessageContaining("systems.transaction: 'OR transactions' is not an absolute URI");
    }

    @Test
    void missingMappingFileIsNamed() throws IOException {
        setUp();
        route("acme.yaml", mllp("acme", "3005", "").replace("mercy-or.yaml", "nope.yaml"));
        assertThatThrownBy(() -> InterfaceCatalog.load(routes, mappings))
                .hasMessageContaining("routes/acme.yaml").hasMessageContaining("mapping file mappings/nope.yaml not found");
    }

    private static int lineOf(String text, String needle) {
        String[] lines = text.split("\n");
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].contains(needle)) {
                return i + 1;
            }
        }
        throw new AssertionError(needle);
    }
}
