package org.supplyhub.journal.crypto;

import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The format of an encrypted journal value, AES-256-GCM:
 * <pre>magic 0x00 | version 0xE1 | data-key id (4 bytes, big-endian) | nonce (12 bytes) | ciphertext | tag (16 bytes)</pre>
 * The additional authenticated data is the 6 header bytes followed by the column's name, so neither the
 * key id nor the column can be changed without the tag failing. Plain Java, no Spring.
 */
public final class Aead {

    static final byte MAGIC = 0x00;
    static final byte VERSION = (byte) 0xE1;
    static final int HEADER = 2 + 4 + 12;
    static final int TAG_BITS = 128;
    /** Text columns carry the sealed bytes in base64 after this prefix. */
    public static final String TEXT_PREFIX = "enc1:";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ThreadLocal<Cipher> CIPHER = ThreadLocal.withInitial(() -> {
        try {
            return Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES/GCM is part of every JRE", e);
        }
    });

    private Aead() {
    }

    /** Whether a stored value is in this format (else it was stored in clear, before encryption or with it off). */
    public static boolean isSealed(byte[] stored) {
        return stored != null && stored.length >= HEADER + TAG_BITS / 8 && stored[0] == MAGIC && stored[1] == VERSION;
    }

    public static boolean isSealed(String stored) {
        return stored != null && stored.startsWith(TEXT_PREFIX);
    }

    /** The data-key id in a sealed value's header. */
    public static int keyId(byte[] sealed) {
        return ByteBuffer.wrap(sealed, 2, 4).getInt();
    }

    public static byte[] seal(SecretKey key, int keyId, byte[] aad, byte[] clear) {
        byte[] out = new byte[HEADER + clear.length + TAG_BITS / 8];
        ByteBuffer header = ByteBuffer.wrap(out, 0, HEADER);
        header.put(MAGIC).put(VERSION).putInt(keyId);
        byte[] nonce = new byte[12];
        RANDOM.nextBytes(nonce);
        header.put(nonce);
        try {
            Cipher c = CIPHER.get();
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(out, 0, 6);
            c.updateAAD(aad);
            c.doFinal(clear, 0, clear.length, out, HEADER);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("encryption failed: " + e.getClass().getSimpleName(), e);
        }
    }

    /**
     * The clear bytes of a sealed value.
     *
     * @throws TamperedValueException when the tag does not verify (wrong key, wrong column, changed bytes)
     */
    public static byte[] open(SecretKey key, byte[] aad, byte[] sealed) {
        if (!isSealed(sealed)) {
            throw new TamperedValueException("not an encrypted value (header missing)");
        }
        try {
            Cipher c = CIPHER.get();
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, 6, 12));
            c.updateAAD(sealed, 0, 6);
            c.updateAAD(aad);
            return c.doFinal(sealed, HEADER, sealed.length - HEADER);
        } catch (javax.crypto.AEADBadTagException e) {
            throw new TamperedValueException("value does not verify under data key " + keyId(sealed)
                    + ": changed, moved from another column, or the key is wrong");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("decryption failed: " + e.getClass().getSimpleName(), e);
        }
    }

    /** The header's bytes, for tests that show the format. */
    static byte[] header(byte[] sealed) {
        return Arrays.copyOf(sealed, HEADER);
    }

    /** A value that failed authentication. Says which key, never what the value was. */
    public static final class TamperedValueException extends RuntimeException {
        public TamperedValueException(String message) {
            super(message);
        }
    }
}
