package org.supplyhub.audit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.diagnostics.FailureAnalysis;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The audit signing key is generated only for an H2 journal; nodes on a shared database must be given one. */
class SigningKeyResolutionTest {

    @Test
    void postgresWithoutASigningKeyFailsNamingTheProperty(@TempDir Path dir) {
        assertThatThrownBy(() -> AuditChainService.signer("", "jdbc:postgresql://db:5432/hub", dir))
                .isInstanceOf(SigningKeys.AuditKeyException.class)
                .hasMessageStartingWith(AuditChainService.SIGNING_KEY_PROPERTY + " is not set");
        assertThat(dir.resolve(AuditChainService.DEFAULT_KEY_FILE)).doesNotExist();
        FailureAnalysis analysis = new AuditKeyFailureAnalyzer().analyze(new IllegalStateException("bean",
                new SigningKeys.AuditKeyException(AuditChainService.SIGNING_KEY_PROPERTY + " is not set.")));
        assertThat(analysis.getDescription()).contains(AuditChainService.SIGNING_KEY_PROPERTY);
        assertThat(analysis.getAction()).contains(AuditChainService.SIGNING_KEY_PROPERTY);
    }

    @Test
    void anH2FileJournalGetsOneGeneratedKeyInItsDataFolder(@TempDir Path dir) {
        SigningKeys.Signer first = AuditChainService.signer("", "jdbc:h2:file:" + dir.resolve("hub"), dir);
        SigningKeys.Signer again = AuditChainService.signer("", "jdbc:h2:file:" + dir.resolve("hub"), dir);
        assertThat(again.keyId()).isEqualTo(first.keyId());
        assertThat(Files.isRegularFile(dir.resolve("audit-signing-key.pub.pem"))).isTrue();
    }

    @Test
    void aGivenKeyIsUsedOnPostgres(@TempDir Path dir) {
        Path key = dir.resolve("shared/audit-signing-key.pem");
        SigningKeys.generateIfMissing(key);
        assertThat(AuditChainService.signer("file:" + key, "jdbc:postgresql://db/hub", dir.resolve("data")).keyId())
                .isEqualTo(SigningKeys.load(key).keyId());
    }
}
