package org.supplyhub.journal.crypto;

import org.junit.jupiter.api.Test;

import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The value format: header, nonce, AES-256-GCM with the column as AAD; tampering fails the tag. */
class AeadTest {

    static final SecretKey KEY = key();
    static final byte[] CLEAR = "PID|1||MRN448812^^^MERCY^MR||DOE^JANE||19610214|F".getBytes(StandardCharsets.UTF_8);

    static SecretKey key() {
        byte[] k = new byte[32];
        new SecureRandom().nextBytes(k);
        return new SecretKeySpec(k, "AES");
    }

    @Test
    void aSealedValueCarriesItsHeaderAndOpensToTheSameBytes() {
        byte[] sealed = Aead.seal(KEY, 0x01020304, Column.MESSAGE_RAW.aad(), CLEAR);
        assertThat(sealed).hasSize(2 + 4 + 12 + CLEAR.length + 16);
        assertThat(sealed[0]).isEqualTo((byte) 0x00);
        assertThat(sealed[1]).isEqualTo((byte) 0xE1);
        assertThat(ByteBuffer.wrap(sealed, 2, 4).getInt()).isEqualTo(0x01020304);
        assertThat(Aead.keyId(sealed)).isEqualTo(0x01020304);
        assertThat(Aead.isSealed(sealed)).isTrue();
        assertThat(Aead.open(KEY, Column.MESSAGE_RAW.aad(), sealed)).isEqualTo(CLEAR);
    }

    @Test
    void theSameValueSealsDifferentlyEachTimeAndNoneOfItShowsInClear() {
        Set<String> nonces = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            byte[] sealed = Aead.seal(KEY, 7, Column.MESSAGE_RAW.aad(), CLEAR);
            nonces.add(HexFormat.of().formatHex(sealed, 6, 18));
            String latin = new String(sealed, StandardCharsets.ISO_8859_1);
            assertThat(latin).doesNotContain("MRN448812").doesNotContain("DOE");
            assertThat(HexFormat.of().formatHex(sealed)).doesNotContain(HexFormat.of().formatHex("MRN448812".getBytes()));
            assertThat(Base64.getEncoder().encodeToString(sealed)).doesNotContain(
                    Base64.getEncoder().encodeToString("MRN448812".getBytes()).substring(0, 8));
        }
        assertThat(nonces).hasSize(200); // 96-bit random nonces never repeat in practice
    }

    @Test
    void aValueMovedToAnotherColumnDoesNotOpen() {
        byte[] serial = Aead.seal(KEY, 7, Column.DEVICE_SERIAL.aad(), "SN00042519".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> Aead.open(KEY, Column.DEVICE_PATIENT.aad(), serial))
                .isInstanceOf(Aead.TamperedValueException.class).hasMessageContaining("another column")
                .hasMessageNotContaining("SN00042519");
    }

    @Test
    void everyChangedByteAndAWrongKeyFailTheTag() {
        byte[] sealed = Aead.seal(KEY, 7, Column.MESSAGE_RAW.aad(), CLEAR);
        for (int i = 2; i < sealed.length; i++) { // the magic bytes are not authenticated... but checked
            byte[] tampered = sealed.clone();
            tampered[i] ^= 0x01;
            int at = i;
            assertThatThrownBy(() -> Aead.open(KEY, Column.MESSAGE_RAW.aad(), tampered)).as("byte %d", at)
                    .isInstanceOf(Aead.TamperedValueException.class);
        }
        assertThatThrownBy(() -> Aead.open(key(), Column.MESSAGE_RAW.aad(), sealed))
                .isInstanceOf(Aead.TamperedValueException.class);
        assertThatThrownBy(() -> Aead.open(KEY, Column.MESSAGE_RAW.aad(), Arrays.copyOf(sealed, sealed.length - 1)))
                .isInstanceOf(Aead.TamperedValueException.class);
        byte[] noMagic = sealed.clone();
        noMagic[1] = 'S';
        assertThat(Aead.isSealed(noMagic)).isFalse();
    }

    @Test
    void clearValuesAreRecognisedAsNotSealed() {
        assertThat(Aead.isSealed("MSH|^~\\&|ORMGR".getBytes(StandardCharsets.US_ASCII))).isFalse();
        assertThat(Aead.isSealed(new byte[0])).isFalse();
        assertThat(Aead.isSealed((byte[]) null)).isFalse();
        assertThat(Aead.isSealed("{\"patient\":1}")).isFalse();
        assertThat(Aead.isSealed("enc1:AAE=")).isTrue();
    }
}
