package org.supplyhub.journal.crypto;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Key specs (file:, env:), KEK ids as check values, wrapping, and the messages a wrong key gets. */
class KeyRingTest {

    @TempDir
    Path dir;

    static byte[] random() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return k;
    }

    static String b64(byte[] k) {
        return Base64.getEncoder().encodeToString(k);
    }

    @Test
    void aKeyComesFromAFileOrTheEnvironmentAndItsIdIsItsCheckValue() throws Exception {
        byte[] active = random();
        byte[] old = random();
        Path file = dir.resolve("kek");
        Files.writeString(file, b64(active) + "\n");
        KeyRing ring = KeyRing.parse("file:" + file, " env:OLD_KEK , ", Map.of("OLD_KEK", b64(old))::get);
        assertThat(ring.active().id()).isEqualTo(KeyRing.idOf(active)).hasSize(16).isNotEqualTo(KeyRing.idOf(old));
        assertThat(ring.ids()).containsExactlyInAnyOrder(KeyRing.idOf(active), KeyRing.idOf(old));
        assertThat(ring.active().toString()).doesNotContain(b64(active));
        assertThat(KeyRing.idOf(active)).isEqualTo(KeyRing.idOf(active.clone())); // stable across starts
    }

    @Test
    void malformedSpecsNameTheProperty() throws Exception {
        assertThatThrownBy(() -> KeyRing.parse("/run/secrets/kek", "", k -> null)).isInstanceOf(JournalKeyException.class)
                .hasMessageStartingWith("hub.journal.encryption.key must be file:PATH or env:NAME");
        assertThatThrownBy(() -> KeyRing.parse("env:NOPE", "", k -> null))
                .hasMessage("hub.journal.encryption.key: the environment variable NOPE is not set");
        assertThatThrownBy(() -> KeyRing.parse("file:" + dir.resolve("missing"), "", k -> null))
                .hasMessageStartingWith("hub.journal.encryption.key: cannot read the key file");
        Path shortKey = dir.resolve("short");
        Files.writeString(shortKey, b64(new byte[16]));
        assertThatThrownBy(() -> KeyRing.parse("file:" + shortKey, "", k -> null))
                .hasMessageContaining("holds 128 bits; a key-encryption key has 256");
        assertThatThrownBy(() -> KeyRing.parse("env:K", "env:BAD", Map.of("K", b64(random()), "BAD", "not base64!")::get))
                .hasMessageStartingWith("hub.journal.encryption.old-keys: env:BAD does not hold base64");
        String secret = b64(random());
        assertThatThrownBy(() -> KeyRing.parse(secret, "", k -> null)).hasMessageNotContaining(secret); // a key pasted in place of a spec is not echoed
    }

    @Test
    void wrappedKeysOpenUnderTheirKekOnlyAndOnlyForTheirIdAndPurpose() {
        byte[] oldKek = random();
        byte[] newKek = random();
        byte[] dataKey = random();
        KeyRing before = KeyRing.of(oldKek, List.of());
        byte[] wrapped = before.wrap(42, "DATA", dataKey);
        String oldId = KeyRing.idOf(oldKek);
        assertThat(before.unwrap(oldId, 42, "DATA", wrapped)).isEqualTo(dataKey);
        assertThatThrownBy(() -> before.unwrap(oldId, 42, "SEARCH", wrapped)).isInstanceOf(JournalKeyException.class);
        assertThatThrownBy(() -> before.unwrap(oldId, 43, "DATA", wrapped)).isInstanceOf(JournalKeyException.class);

        KeyRing rotated = KeyRing.of(newKek, List.of(oldKek));
        assertThat(rotated.unwrap(oldId, 42, "DATA", wrapped)).isEqualTo(dataKey); // old keys stay readable
        byte[] rewrapped = rotated.wrap(42, "DATA", dataKey);
        assertThat(rotated.unwrap(KeyRing.idOf(newKek), 42, "DATA", rewrapped)).isEqualTo(dataKey);

        KeyRing wrong = KeyRing.of(newKek, List.of());
        assertThatThrownBy(() -> wrong.unwrap(oldId, 42, "DATA", wrapped)).isInstanceOf(JournalKeyException.class)
                .hasMessageContaining("neither hub.journal.encryption.key nor in hub.journal.encryption.old-keys");
    }

    @Test
    void theDefaultKeyIsGeneratedOnceOwnerOnlyBesideTheH2Database() throws Exception {
        Path data = dir.resolve("data");
        String url = "jdbc:h2:file:" + data.resolve("hub") + ";DB_CLOSE_ON_EXIT=FALSE";
        assertThat(JournalKeys.dataDirectory(url)).isEqualTo(data.toAbsolutePath());
        KeyRing first = JournalKeys.ring("", "", url);
        Path kek = data.resolve("journal.kek");
        assertThat(Files.getPosixFilePermissions(kek)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(Files.getPosixFilePermissions(data)).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        assertThat(Base64.getDecoder().decode(Files.readString(kek, StandardCharsets.US_ASCII).strip())).hasSize(32);
        assertThat(JournalKeys.ring("", "", url).active().id()).isEqualTo(first.active().id()); // not regenerated
        try (var files = Files.list(data)) {
            assertThat(files.map(p -> p.getFileName().toString()).toList()).containsExactly("journal.kek"); // no temp left
        }
    }
}
