package org.supplyhub.ops;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The campaign's messages must be unique where the hub and the receivers look, and its ACK reading exact. */
class LoadSenderTest {

    @Test
    void eachMessageHasItsOwnControlIdTransactionIdsAndImplantSerial_consistentInTheUdi() {
        String m = LoadSender.message("kl7", 42);
        assertThat(m).contains("|FCkl7-42|")
                .contains("FT1|1|TX-kl7-42-1|").contains("FT1|2|TX-kl7-42-2|").contains("FT1|3|TX-kl7-42-3|")
                .contains("(21)Skl7N42|LOT7781A|Skl7N42|")
                .contains("|ACCTkl742^^^MERCY^AN");
        assertThat(m).doesNotContain("SN00042519").doesNotContain("\n");
        assertThat(LoadSender.message("kl7", 43)).isNotEqualTo(m).contains("|FCkl7-43|");
    }

    @Test
    void readsTheAckCodeAndErrThreeCode() {
        String resendLater = "MSH|^~\\&|SUPPLYHUB|HUB|ORMGR|MERCY_OR|20261129||ACK^P03^ACK|1|P|2.5.1\r"
                + "MSA|AE|FCx-1\rERR||MSH^1^10|207^Application internal error^HL70357|E\r";
        assertThat(LoadSender.ackCode(resendLater)).isEqualTo("AE");
        assertThat(LoadSender.errorCode(resendLater)).isEqualTo("207");
        assertThat(LoadSender.errorCode("MSH|^~\\&|A\rMSA|AA|FCx-1\r")).isEmpty();
    }
}
