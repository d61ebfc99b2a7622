package org.supplyhub.hl7;

import ca.uhn.hl7v2.validation.builder.PredicatePrimitiveTypeRule.Trimmer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link TrimRules} trims as HAPI's NoValidation rules do (their regular expressions are the oracle). */
class TrimRulesTest {

    @Test
    void trimsAsHapisRulesDo() {
        String alphabet = "a \t\n\r\u000b\f\u0085\u2028\u2029\u00a0";
        Random random = new Random(16);
        List<String> texts = new ArrayList<>(List.of("", " ", "a", " a ", "a\r\n", "a \u2028", "a\u2028", " \u2029",
                "a \r\n\u0085", "\r\n"));
        for (int n = 0; n < 50_000; n++) {
            StringBuilder b = new StringBuilder();
            for (int i = random.nextInt(8); i > 0; i--) {
                b.append(alphabet.charAt(random.nextInt(alphabet.length())));
            }
            texts.add(b.toString());
        }
        for (String text : texts) {
            assertThat(TrimRules.trimLeading(text)).as("leading of %s", text.chars().boxed().toList())
                    .isEqualTo(Trimmer.LEFT.trim(text));
            assertThat(TrimRules.trimTrailing(text)).as("trailing of %s", text.chars().boxed().toList())
                    .isEqualTo(Trimmer.RIGHT.trim(text));
        }
        assertThat(TrimRules.trimLeading(null)).isNull();
        assertThat(TrimRules.trimTrailing(null)).isNull();
    }

    @Test
    void hasNoValidationsRules() {
        ca.uhn.hl7v2.validation.ValidationContext hapi = ca.uhn.hl7v2.validation.impl.ValidationContextFactory.noValidation();
        for (String version : List.of("2.3", "2.5.1", "2.8")) {
            for (String type : List.of("ST", "FT", "TX", "ID", "IS", "NM", "DTM", "TS", "SI", "GTS", "varies")) {
                assertThat(TrimRules.INSTANCE.getPrimitiveRules(version, type, null)).as("%s %s", version, type)
                        .hasSameSizeAs(hapi.getPrimitiveRules(version, type, null));
                for (var rule : TrimRules.INSTANCE.getPrimitiveRules(version, type, null)) {
                    assertThat(rule.correct("  x  ")).isEqualTo(hapi.getPrimitiveRules(version, type, null).iterator().next()
                            .correct("  x  "));
                    assertThat(rule.apply("  x  ")).isEmpty();
                }
            }
            assertThat(TrimRules.INSTANCE.getMessageRules(version, "DFT", "P03"))
                    .hasSameSizeAs(hapi.getMessageRules(version, "DFT", "P03"));
            assertThat(TrimRules.INSTANCE.getEncodingRules(version, "VB")).hasSameSizeAs(hapi.getEncodingRules(version, "VB"));
        }
    }
}
