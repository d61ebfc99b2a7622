package org.supplyhub.hl7;

import org.junit.jupiter.api.Test;
import org.supplyhub.support.Samples;

import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link Hl7Header}: its split is {@code String.split(Pattern.quote(sep), -1)}, without the regex. */
class Hl7HeaderTest {

    @Test
    void splitKeepsEveryPieceAsStringSplitDoes() {
        for (char sep : new char[] {'|', '^', '$', '.', '\\', '*', '#'}) {
            for (String text : List.of("", "a", "MSH|^~\\&|A|B", "||", "|a|", "a||b", "^^^", "a^b^", "^a", "$.\\*#|^")) {
                String t = text.replace('|', sep == '|' ? '|' : sep);
                assertThat(Hl7Header.split(t, sep)).as("%s on %s", t, sep)
                        .containsExactly(t.split(Pattern.quote(String.valueOf(sep)), -1));
            }
        }
    }

    @Test
    void readsTheSamplesHeader() {
        Hl7Header h = Hl7Header.read(Samples.read(Samples.MERCY));
        assertThat(h.sender()).isEqualTo("ORMGR^MERCY_OR");
        assertThat(h.type()).isEqualTo("DFT^P03");
        assertThat(h.version()).isEqualTo("2.5.1");
        assertThat(h.controlId()).isNotBlank();
    }
}
