package org.supplyhub.journal.crypto;

import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The key-encryption keys (KEKs): the active one, which wraps every new data key and the search key,
 * and older ones kept for reading until {@code rotate-key} has re-wrapped what they wrapped. A KEK is
 * 256 bits, given in base64 by {@code file:PATH} or {@code env:NAME}; its id is a key check value
 * (the first 8 bytes of HMAC-SHA256(kek, "supplyhub journal kek")), stored beside each wrapped key:
 * a wrong key is recognised by its id before anything is decrypted, and the id reveals nothing of the key.
 */
public final class KeyRing {

    public static final String KEY_PROPERTY = "hub.journal.encryption.key";
    public static final String OLD_KEYS_PROPERTY = "hub.journal.encryption.old-keys";

    /** One KEK, with where it came from (the spec, never the key) for messages. */
    public record Kek(String id, SecretKey key, String source) {
        @Override
        public String toString() {
            return "KEK " + id + " (" + source + ")";
        }
    }

    private final Kek active;
    private final Map<String, Kek> byId;

    private KeyRing(Kek active, List<Kek> old) {
        this.active = active;
        Map<String, Kek> all = new LinkedHashMap<>();
        all.put(active.id(), active);
        old.forEach(k -> all.putIfAbsent(k.id(), k));
        this.byId = Map.copyOf(all);
    }

    /** A ring from raw keys (tests, and the generated default key). */
    public static KeyRing of(byte[] active, List<byte[]> old) {
        List<Kek> olds = new ArrayList<>();
        for (byte[] k : old) {
            olds.add(kek(k, "old key"));
        }
        return new KeyRing(kek(active, "active key"), olds);
    }

    /**
     * The ring the properties name: {@code activeSpec} ({@value #KEY_PROPERTY}) and the comma-separated
     * {@code oldSpecs} ({@value #OLD_KEYS_PROPERTY}); {@code env} looks up environment variables.
     *
     * @throws JournalKeyException naming the property when a spec is malformed, unreadable or not 256 bits
     */
    public static KeyRing parse(String activeSpec, String oldSpecs, Function<String, String> env) {
        Kek active = kek(read(activeSpec, KEY_PROPERTY, env), activeSpec.trim());
        List<Kek> old = new ArrayList<>();
        if (oldSpecs != null) {
            for (String spec : oldSpecs.split(",")) {
                if (!spec.isBlank()) {
                    old.add(kek(read(spec, OLD_KEYS_PROPERTY, env), spec.trim()));
                }
            }
        }
        return new KeyRing(active, old);
    }

    /** The 32 bytes a {@code file:PATH} or {@code env:NAME} spec holds (base64). */
    static byte[] read(String spec, String property, Function<String, String> env) {
        String s = spec == null ? "" : spec.trim();
        String text;
        if (s.startsWith("file:")) {
            Path file = Path.of(s.substring(5));
            try {
                text = Files.readString(file, StandardCharsets.US_ASCII);
            } catch (IOException e) {
                throw new JournalKeyException(property + ": cannot read the key file " + file + " ("
                        + e.getClass().getSimpleName() + ")");
            }
        } else if (s.startsWith("env:")) {
            text = env.apply(s.substring(4));
            if (text == null) {
                throw new JournalKeyException(property + ": the environment variable " + s.substring(4) + " is not set");
            }
        } else {
            throw new JournalKeyException(property + " must be file:PATH or env:NAME (a base64 256-bit key), got '"
                    + (s.length() > 40 ? s.substring(0, 8) + "…" : s.replaceAll("[A-Za-z0-9+/=]{20,}", "<key?>")) + "'");
        }
        byte[] key;
        try {
            key = Base64.getDecoder().decode(text.strip());
        } catch (IllegalArgumentException e) {
            throw new JournalKeyException(property + ": " + s + " does not hold base64 (generate one with"
                    + " `openssl rand -base64 32`)");
        }
        if (key.length != 32) {
            throw new JournalKeyException(property + ": " + s + " holds " + key.length * 8
                    + " bits; a key-encryption key has 256 (generate one with `openssl rand -base64 32`)");
        }
        return key;
    }

    /** A KEK's id: its key check value. */
    public static String idOf(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] check = mac.doFinal("supplyhub journal kek".getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(check, 0, 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
        }
    }

    private static Kek kek(byte[] key, String source) {
        if (key == null || key.length != 32) {
            throw new JournalKeyException("a key-encryption key has 256 bits");
        }
        return new Kek(idOf(key), new SecretKeySpec(key.clone(), "AES"), source);
    }

    public Kek active() {
        return active;
    }

    public boolean holds(String kekId) {
        return byId.containsKey(kekId);
    }

    public java.util.Set<String> ids() {
        return byId.keySet();
    }

    /** A data or search key, wrapped by the active KEK; its journal_key id and purpose are authenticated with it. */
    public byte[] wrap(int keyId, String purpose, byte[] key) {
        return Aead.seal(active.key(), keyId, wrapAad(purpose), key);
    }

    /**
     * @throws JournalKeyException when the ring lacks the KEK or the KEK does not open the wrapped key
     */
    public byte[] unwrap(String kekId, int keyId, String purpose, byte[] wrapped) {
        Kek kek = byId.get(kekId);
        if (kek == null) {
            throw new JournalKeyException("journal key " + keyId + " is wrapped by KEK " + kekId
                    + ", which is neither " + KEY_PROPERTY + " nor in " + OLD_KEYS_PROPERTY);
        }
        if (!Aead.isSealed(wrapped) || Aead.keyId(wrapped) != keyId) {
            throw new JournalKeyException("journal key " + keyId + " is not a wrapped key of this hub");
        }
        try {
            return Aead.open(kek.key(), wrapAad(purpose), wrapped);
        } catch (Aead.TamperedValueException e) {
            throw new JournalKeyException("journal key " + keyId + " does not unwrap under " + kek
                    + ": the key file or the journal_key table was changed");
        }
    }

    private static byte[] wrapAad(String purpose) {
        return ("journal_key." + purpose).getBytes(StandardCharsets.US_ASCII);
    }
}
