package org.supplyhub.journal.crypto;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/** The scan the encryption tests rely on finds patient data in clear and merely encoded. */
class PhiScanTest {

    @Test
    void findsClearHexAndBase64ButNotCiphertext() {
        String pid = "PID|1||MRN448812^^^MERCY^MR||VALDEZ^ROSA^M||19580302|F";
        assertThat(PhiScan.findIn("t", pid)).contains("MRN448812 in t", "VALDEZ in t", "19580302 in t");
        assertThat(PhiScan.findIn("t", "{\"v\":\"" + Base64.getEncoder().encodeToString(pid.getBytes()) + "\"}"))
                .contains("MRN448812 in t");
        assertThat(PhiScan.findIn("t", "x:" + HexFormat.of().formatHex(pid.getBytes()))).contains("VALDEZ in t");
        assertThat(PhiScan.findIn("t", pid.getBytes(StandardCharsets.UTF_16LE))).contains("MRN448812 in t (UTF-16)");
        byte[] sealed = Aead.seal(AeadTest.KEY, 1, Column.MESSAGE_RAW.aad(), pid.getBytes(StandardCharsets.UTF_8));
        assertThat(PhiScan.findIn("t", sealed)).isEmpty();
        assertThat(PhiScan.findIn("t", Aead.TEXT_PREFIX + Base64.getEncoder().encodeToString(sealed))).isEmpty();
    }
}
