package org.supplyhub.audit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The hub's audit signing key (Ed25519, from the JDK): the private key as PKCS#8 PEM, its public key as
 * X.509 PEM beside it ({@code <name>.pub.pem}, the file an auditor is given). Keys are named by their id,
 * the first 16 bytes of the SHA-256 of the public key's encoding, in hex.
 */
public final class SigningKeys {

    public static final String ALGORITHM = "Ed25519";
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private SigningKeys() {
    }

    /** A key pair that signs checkpoints. */
    public record Signer(PrivateKey privateKey, PublicKey publicKey, String keyId) {

        public String sign(String payload) {
            try {
                Signature s = Signature.getInstance(ALGORITHM);
                s.initSign(privateKey);
                s.update(payload.getBytes(StandardCharsets.UTF_8));
                return Base64.getEncoder().encodeToString(s.sign());
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("signing with the audit key failed", e);
            }
        }
    }

    /** Whether {@code signature} (base64) is {@code key}'s signature of {@code payload}. */
    public static boolean verify(PublicKey key, String payload, String signature) {
        try {
            Signature s = Signature.getInstance(ALGORITHM);
            s.initVerify(key);
            s.update(payload.getBytes(StandardCharsets.UTF_8));
            return s.verify(Base64.getDecoder().decode(signature));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false; // malformed signature or key: not a valid signature
        }
    }

    public static String keyId(PublicKey key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return HexFormat.of().formatHex(digest, 0, 16);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The public key file that goes with a private key file. */
    public static Path publicKeyFile(Path privateKeyFile) {
        String name = privateKeyFile.getFileName().toString();
        String base = name.endsWith(".pem") ? name.substring(0, name.length() - 4) : name;
        return privateKeyFile.resolveSibling(base + ".pub.pem");
    }

    /**
     * Loads the key pair (the public key from its file beside the private one); a pair that does not
     * match, a missing file or another algorithm fails here, at start-up, with the file named.
     */
    public static Signer load(Path privateKeyFile) {
        Path publicFile = publicKeyFile(privateKeyFile);
        if (!Files.isRegularFile(privateKeyFile)) {
            throw new AuditKeyException("audit signing key " + privateKeyFile + " does not exist");
        }
        if (!Files.isRegularFile(publicFile)) {
            throw new AuditKeyException("the public key of " + privateKeyFile + " is missing: expected " + publicFile
                    + " (openssl pkey -in " + privateKeyFile + " -pubout -out " + publicFile + ")");
        }
        try {
            PrivateKey privateKey = KeyFactory.getInstance(ALGORITHM)
                    .generatePrivate(new PKCS8EncodedKeySpec(pem(privateKeyFile, "PRIVATE KEY")));
            PublicKey publicKey = readPublicKey(publicFile);
            Signer signer = new Signer(privateKey, publicKey, keyId(publicKey));
            if (!verify(publicKey, "pair check", signer.sign("pair check"))) {
                throw new AuditKeyException(publicFile + " is not the public key of " + privateKeyFile);
            }
            return signer;
        } catch (GeneralSecurityException e) {
            throw new AuditKeyException(privateKeyFile + " is not an Ed25519 PKCS#8 private key: "
                    + e.getClass().getSimpleName());
        }
    }

    public static PublicKey readPublicKey(Path publicFile) {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(pem(publicFile, "PUBLIC KEY")));
        } catch (GeneralSecurityException e) {
            throw new AuditKeyException(publicFile + " is not an Ed25519 public key (X.509 PEM): "
                    + e.getClass().getSimpleName());
        }
    }

    /**
     * Makes a new key pair in {@code privateKeyFile} (owner-only) and its public key beside it, unless the
     * file exists already (another process won the race: its key is used). Returns whether it made one.
     */
    public static boolean generateIfMissing(Path privateKeyFile) {
        if (Files.exists(privateKeyFile)) {
            return false;
        }
        try {
            Path dir = privateKeyFile.toAbsolutePath().getParent();
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir);
                ownerOnly(dir, "rwx------");
            }
            KeyPair pair = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
            Path tmp = Files.createTempFile(dir, ".audit-key", ".tmp");
            ownerOnly(tmp, "rw-------");
            Files.writeString(tmp, pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
            Path publicFile = publicKeyFile(privateKeyFile);
            Path publicTmp = Files.createTempFile(dir, ".audit-key", ".pub.tmp");
            Files.writeString(publicTmp, pem("PUBLIC KEY", pair.getPublic().getEncoded()));
            try {
                // the private key last: a reader that sees it finds its public key too
                Files.move(publicTmp, publicFile, StandardCopyOption.ATOMIC_MOVE);
                Files.move(tmp, privateKeyFile, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException raced) {
                Files.deleteIfExists(tmp);
                Files.deleteIfExists(publicTmp);
                return false;
            }
            return true;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make Ed25519 keys", e);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the audit signing key " + privateKeyFile, e);
        }
    }

    private static void ownerOnly(Path path, String permissions) throws IOException {
        if (Files.getFileStore(path).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(permissions));
        }
    }

    static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + label + "-----\n";
    }

    private static byte[] pem(Path file, String label) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new AuditKeyException("cannot read " + file + ": " + e.getClass().getSimpleName());
        }
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            if (m.group(1).equals(label)) {
                return Base64.getMimeDecoder().decode(m.group(2));
            }
        }
        throw new AuditKeyException(file + " holds no PEM block '" + label + "'");
    }

    /** Public keys by id, for verifying. */
    public static Map<String, PublicKey> byId(Iterable<PublicKey> keys) {
        Map<String, PublicKey> map = new java.util.LinkedHashMap<>();
        keys.forEach(k -> map.put(keyId(k), k));
        return map;
    }

    /** A key file is missing, unreadable or not what it should be. */
    public static final class AuditKeyException extends RuntimeException {
        public AuditKeyException(String message) {
            super(message);
        }
    }
}
