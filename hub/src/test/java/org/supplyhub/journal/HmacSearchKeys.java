package org.supplyhub.journal;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/** HMAC-SHA256 of the trimmed value under a 256-bit search key, hex: the reference {@code JournalKeys.of} must equal (one Mac per call, as the hub did before issue 16). */
public final class HmacSearchKeys implements SearchKeys {

    private final SecretKeySpec key;

    public HmacSearchKeys(byte[] key) {
        if (key == null || key.length < 32) {
            throw new IllegalArgumentException("a search key has at least 256 bits");
        }
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
    }

    @Override
    public String of(String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        try {
            Mac mac = Mac.getInstance("HmacSHA256"); // a Mac is not thread-safe; creating one costs ~1 µs
            mac.init(key);
            return HexFormat.of().formatHex(mac.doFinal(value.trim().getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
        }
    }
}
