package org.supplyhub.delivery;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.supplyhub.config.ConnectorKind;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.journal.crypto.OwnerOnlyFiles;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/** The file connector writes each delivery whole, owner-only, under its key, and leaves no temp file. */
class FileConnectorTest {

    @TempDir
    Path root;

    final FileConnector files = new FileConnector();

    @Test
    void aDeliveryIsOneOwnerOnlyFileNamedByItsKeyAndARetryRewritesIt() throws Exception {
        DestinationDefinition d = destination(root.resolve("out/billing"));
        assertThat(files.send(d, payload("first"))).isEqualTo("mercy-billing-7.hl7");
        assertThat(files.send(d, payload("second"))).isEqualTo("mercy-billing-7.hl7");
        files.flush(d);

        assertThat(list(d.directory())).containsExactly("mercy-billing-7.hl7");
        assertThat(Files.readString(d.directory().resolve("mercy-billing-7.hl7"))).isEqualTo("second");
        assumeThat(OwnerOnlyFiles.POSIX).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(d.directory().resolve("mercy-billing-7.hl7"))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(d.directory()))).isEqualTo("rwx------");
    }

    @Test
    void aFolderRemovedMeanwhileIsMadeAgainAndAnUnwritableOneIsAnIoFailure() throws Exception {
        DestinationDefinition d = destination(root.resolve("gone"));
        files.send(d, payload("one"));
        Files.delete(d.directory().resolve("mercy-billing-7.hl7"));
        Files.delete(d.directory());
        assertThatThrownBy(() -> files.send(d, payload("two"))).isInstanceOf(DeliveryException.class)
                .satisfies(e -> assertThat(((DeliveryException) e).code()).isEqualTo("IO"))
                .satisfies(e -> assertThat(((DeliveryException) e).permanent()).isFalse());
        files.send(d, payload("three")); // the retry makes the folder again
        assertThat(Files.readString(d.directory().resolve("mercy-billing-7.hl7"))).isEqualTo("three");
        assertThat(list(d.directory())).containsExactly("mercy-billing-7.hl7");
    }

    static DestinationDefinition destination(Path dir) {
        return new DestinationDefinition("mercy-billing", "routes/destinations.yaml", ConnectorKind.FILE,
                DestinationDefinition.Output.CHARGES, dir, null, Duration.ofSeconds(30), DestinationDefinition.Format.ER7,
                100, Duration.ofHours(24), Duration.ofSeconds(2), Duration.ofMinutes(10), Duration.ofSeconds(1),
                Duration.ofMinutes(5), 50, null, false, null);
    }

    static Connector.Payload payload(String body) {
        return new Connector.Payload("mercy-billing-7", 7, "application/hl7-v2", "hl7", body.getBytes(StandardCharsets.UTF_8));
    }

    static List<String> list(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
