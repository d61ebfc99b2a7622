package org.supplyhub.journal;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PidKeysTest {

    @Test
    void readsTheFirstComponentOfPid3AndPid18WithTheMessagesSeparators() {
        String text = "MSH|^~\\&|A|B|C|D|20261114||DFT^P03|X1|P|2.5.1\rEVN|P03\r"
                + "PID|1||MRN448812^^^MERCY^MR~OTHER^^^X||DOE^JANE||19610214|F||||||||||ACC77^^^MERCY\r";
        assertThat(PidKeys.read(text)).isEqualTo(new PidKeys("MRN448812", "ACC77"));
        assertThat(PidKeys.read(text.replace('|', '#').replace("MSH#^", "MSH#^")).patient()).isEqualTo("MRN448812");
        assertThat(PidKeys.read(text.replace("\r", "\n")).account()).isEqualTo("ACC77");
    }

    @Test
    void aMessageWithoutAReadablePidHasNoKeys() {
        assertThat(PidKeys.read("MSH|^~\\&|A|B|C|D|20261114||DFT^P03|X1|P|2.5.1\rPID|1")).isEqualTo(PidKeys.NONE);
        assertThat(PidKeys.read("garbage")).isEqualTo(PidKeys.NONE);
        assertThat(PidKeys.read(null)).isEqualTo(PidKeys.NONE);
        assertThat(PidKeys.read("MSH|^~\\&|A|B|C|D|20261114||DFT^P03|X1|P|2.5.1\rPID|1||  ||")).isEqualTo(PidKeys.NONE);
    }
}
