package org.supplyhub.support;

import org.supplyhub.audit.SigningKeys;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The keys a test run gives every hub on a shared database, as a deployment gives its nodes one secret:
 * one KEK and one audit signing key pair per JVM, in a temporary folder of its own.
 */
public final class TestKeys {

    private static Path dir;

    private TestKeys() {
    }

    /** The KEK file (base64 of 32 random bytes), for {@code hub.journal.encryption.key=file:...}. */
    public static synchronized Path kek() {
        return folder().resolve("journal-kek");
    }

    /** The Ed25519 private key (PKCS#8 PEM; its .pub.pem beside it), for {@code hub.audit.signing-key=file:...}. */
    public static synchronized Path signingKey() {
        return folder().resolve("audit-signing-key.pem");
    }

    private static Path folder() {
        if (dir == null) {
            try {
                Path d = Files.createTempDirectory("hub-test-keys");
                d.toFile().deleteOnExit();
                writeKek(d.resolve("journal-kek"));
                SigningKeys.generateIfMissing(d.resolve("audit-signing-key.pem"));
                dir = d;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    /** A new random KEK written to {@code file} (base64, one line). */
    public static Path writeKek(Path file) throws IOException {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Files.writeString(file, Base64.getEncoder().encodeToString(key) + "\n", StandardCharsets.US_ASCII);
        return file;
    }
}
