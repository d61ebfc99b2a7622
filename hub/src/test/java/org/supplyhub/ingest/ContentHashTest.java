package org.supplyhub.ingest;

import org.junit.jupiter.api.Test;
import org.supplyhub.support.Samples;

import static org.assertj.core.api.Assertions.assertThat;

/** What a resend may change without being "other content", and what it may not. */
class ContentHashTest {

    static String hash(String er7) {
        return IntakeService.contentHash(IntakeService.normalizeSegments(er7));
    }

    @Test
    void ignoresTheMessageTimeAndHowSegmentsAreTerminated() {
        String sample = Samples.read(Samples.MERCY);
        String h = hash(sample);
        assertThat(hash(Samples.withField(sample, "MSH", 6, "20261114101500"))).isEqualTo(h);
        assertThat(hash(sample.replace("\r", "\r\n"))).isEqualTo(h);
        assertThat(hash(sample.replace("\r", "\n") + "\n\n")).isEqualTo(h);
        assertThat(hash(sample.stripTrailing() + "\r\r")).isEqualTo(h);
        assertThat(hash(sample.replace("\rEVN|P03|20261114093512", "\rEVN|P03|20261114093512||"))).isEqualTo(h);
    }

    @Test
    void everythingElseCounts() {
        String sample = Samples.read(Samples.MERCY);
        String h = hash(sample);
        assertThat(hash(sample.replace("VALDEZ^ROSA", "VALDEZ^ROSE"))).isNotEqualTo(h);
        assertThat(hash(Samples.withField(sample, "MSH", 5, "OTHER"))).isNotEqualTo(h);
        assertThat(hash(Samples.withField(sample, "MSH", 10, "T"))).isNotEqualTo(h);
        assertThat(hash(Samples.withField(sample, "EVN", 2, "20261114093513"))).isNotEqualTo(h);
        assertThat(hash(Samples.read(Samples.MERCY_CREDIT))).isNotEqualTo(h);
    }
}
