package org.supplyhub.admin;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Typed patient identifiers are hidden in the query string that logs quote; other parameters stay. */
class PhiQueryMaskingTest {

    @Test
    void hidesOnlyTheIdentifyingParameters() {
        assertThat(PhiQueryMasking.mask("interface=mercy-or&patient=MRN448812&before=12"))
                .isEqualTo("interface=mercy-or&patient=%5Bhidden%5D&before=12");
        assertThat(PhiQueryMasking.mask("account=ACCT1&serial=SN1&udi=%2801%29x&lot=L7&limit=5"))
                .isEqualTo("account=%5Bhidden%5D&serial=%5Bhidden%5D&udi=%5Bhidden%5D&lot=%5Bhidden%5D&limit=5");
        assertThat(PhiQueryMasking.mask("mypatient=x&patients=y")).isEqualTo("mypatient=x&patients=y");
        assertThat(PhiQueryMasking.mask(null)).isNull();
    }
}
