package org.supplyhub.admin.console;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The console's segment-by-segment view of a raw message: field numbers as HL7 counts them. */
class Er7ViewTest {

    @Test
    void numbersFieldsLikeTheStandardWithMshCountingItsSeparator() {
        List<Er7View.Segment> segments = Er7View.of("MSH|^~\\&|OR|MERCY|||20261114||DFT^P03|C1|P|2.5.1\r"
                + "PID|1||MRN1^^^MERCY^MR\rFT1|1|TX-1||||CG|2700^SUTURE^CDM\r");
        assertThat(segments).extracting(Er7View.Segment::id).containsExactly("MSH", "PID", "FT1");
        assertThat(segments.get(0).fields()).startsWith(new Er7View.Field("MSH-1", "|"),
                new Er7View.Field("MSH-2", "^~\\&"), new Er7View.Field("MSH-3", "OR"));
        assertThat(segments.get(0).fields()).contains(new Er7View.Field("MSH-9", "DFT^P03"),
                new Er7View.Field("MSH-10", "C1"));
        assertThat(segments.get(1).fields()).containsExactly(new Er7View.Field("PID-1", "1"),
                new Er7View.Field("PID-3", "MRN1^^^MERCY^MR"));
        assertThat(segments.get(2).fields()).contains(new Er7View.Field("FT1-7", "2700^SUTURE^CDM"));
        assertThat(segments.get(2).index()).isEqualTo(3);
    }

    @Test
    void usesTheMessagesOwnSeparatorAndAnyLineEnd() {
        List<Er7View.Segment> segments = Er7View.of("MSH#^~\\&#A#B\nPID#1##M|2\r\n\r\nPV1#1");
        assertThat(segments).extracting(Er7View.Segment::id).containsExactly("MSH", "PID", "PV1");
        assertThat(segments.get(0).fields().get(0)).isEqualTo(new Er7View.Field("MSH-1", "#"));
        assertThat(segments.get(1).fields()).containsExactly(new Er7View.Field("PID-1", "1"),
                new Er7View.Field("PID-3", "M|2"));
    }

    @Test
    void emptyOrHeaderlessInputIsShownAsItCan() {
        assertThat(Er7View.of("")).isEmpty();
        assertThat(Er7View.of(null)).isEmpty();
        assertThat(Er7View.of("garbage without fields")).singleElement()
                .satisfies(s -> assertThat(s.fields()).isEmpty());
    }
}
