package org.supplyhub.journal.crypto;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.diagnostics.FailureAnalysis;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A KEK is generated only for the H2 file journal; on a shared database a missing key stops start-up by name. */
class SharedDatabaseKeysTest {

    @Test
    void postgresWithoutAKeyFailsNamingTheProperty() {
        assertThatThrownBy(() -> JournalKeys.ring("", "", "jdbc:postgresql://db:5432/hub?password=hunter2"))
                .isInstanceOf(JournalKeyException.class)
                .hasMessageStartingWith(KeyRing.KEY_PROPERTY + " is not set")
                .hasMessageContaining("a postgresql database")
                .hasMessageNotContaining("hunter2");
        FailureAnalysis analysis = new JournalKeyFailureAnalyzer().analyze(new IllegalStateException("bean",
                new JournalKeyException(KeyRing.KEY_PROPERTY + " is not set.")));
        assertThat(analysis.getDescription()).contains(KeyRing.KEY_PROPERTY);
        assertThat(analysis.getCause()).isNull(); // one paragraph, no stack trace
    }

    @Test
    void anH2FileJournalGetsAGeneratedKeyBesideIt(@TempDir Path dir) throws Exception {
        String url = "jdbc:h2:file:" + dir.resolve("db/hub") + ";AUTO_SERVER=FALSE";
        assertThat(JournalKeys.dataDirectory(url)).isEqualTo(dir.resolve("db").toAbsolutePath());
        KeyRing ring = JournalKeys.ring("", "", url);
        assertThat(Files.isRegularFile(dir.resolve("db/journal.kek"))).isTrue();
        assertThat(JournalKeys.ring("", "", url).active().id()).as("the same key next start").isEqualTo(ring.active().id());
    }

    @Test
    void aGivenKeyIsUsedWhateverTheDatabase(@TempDir Path dir) throws Exception {
        Path kek = dir.resolve("kek");
        Files.writeString(kek, java.util.Base64.getEncoder().encodeToString(new byte[32]));
        assertThat(JournalKeys.ring("file:" + kek, "", "jdbc:postgresql://db/hub").active().source())
                .isEqualTo("file:" + kek);
    }
}
