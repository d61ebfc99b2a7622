package org.supplyhub.ingest;

import org.junit.jupiter.api.Test;
import org.supplyhub.support.Samples;

import java.util.Random;

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

    /** The split-and-regex form contentHash had before issue 16: the oracle the one-pass form must equal. */
    static String splitHash(String normalized) {
        StringBuilder canonical = new StringBuilder(normalized.length());
        char separator = normalized.length() > 3 ? normalized.stripLeading().charAt(3) : '|';
        for (String segment : normalized.split("\r")) {
            String s = segment.strip();
            if (s.isEmpty()) {
                continue;
            }
            if (s.startsWith("MSH") && s.length() > 3) {
                String[] fields = s.split(java.util.regex.Pattern.quote(String.valueOf(separator)), -1);
                if (fields.length > 6) {
                    fields[6] = "";
                }
                s = String.join(String.valueOf(separator), fields);
            }
            int end = s.length();
            while (end > 0 && s.charAt(end - 1) == separator) {
                end--;
            }
            canonical.append(s, 0, end).append('\r');
        }
        return org.supplyhub.journal.Journal.sha256(canonical.toString());
    }

    static String outcome(java.util.function.UnaryOperator<String> hash, String text) {
        try {
            return hash.apply(text);
        } catch (RuntimeException e) {
            return e.getClass().getName();
        }
    }

    @Test
    void theOnePassHashEqualsTheSplitHashOnManyMessages() {
        Random random = new Random(16);
        String sample = Samples.read(Samples.MERCY);
        String[] samples = {sample, Samples.read(Samples.MERCY_CREDIT), Samples.read(Samples.LAKESIDE)};
        // delimiters, whitespace of every kind HL7 text carries, MSH at and off segment starts, non-ASCII
        String[] pieces = {"|", "^", "~", "\\", "&", "#", "\r", "\n", " ", "\t", "\u00a0", "\u2003", "MSH", "MSH|",
                "PID", "EVN|", "X", "0", "é", "\ud83d\ude00", "||", "\r\r", " \r ", "M", "SH"};
        for (int i = 0; i < 20_000; i++) {
            String text;
            if (i % 3 == 0) {
                // a real message with a few random pieces put in and taken out
                StringBuilder b = new StringBuilder(samples[random.nextInt(samples.length)]);
                for (int k = random.nextInt(6); k > 0; k--) {
                    int at = random.nextInt(b.length() + 1);
                    if (random.nextBoolean()) {
                        b.insert(at, pieces[random.nextInt(pieces.length)]);
                    } else {
                        b.delete(at, Math.min(b.length(), at + random.nextInt(8)));
                    }
                }
                text = b.toString();
            } else {
                StringBuilder b = new StringBuilder(random.nextBoolean() ? "MSH" : "");
                for (int k = random.nextInt(40); k > 0; k--) {
                    b.append(pieces[random.nextInt(pieces.length)]);
                }
                text = b.toString();
            }
            String normalized = IntakeService.normalizeSegments(text);
            assertThat(outcome(IntakeService::contentHash, normalized)).as("hash of %s", normalized)
                    .isEqualTo(outcome(ContentHashTest::splitHash, normalized));
        }
        assertThat(hash(sample)).isEqualTo(splitHash(IntakeService.normalizeSegments(sample)));
    }
}
