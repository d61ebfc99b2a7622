package org.supplyhub.journal;

import org.junit.jupiter.api.Test;
import org.supplyhub.mapping.RenderSpec;
import org.supplyhub.mapping.SupplyUsage;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link OpenedUsages} serves a usage only for the stored value it came from, and stays bounded. */
class OpenedUsagesTest {

    private static final SupplyUsage USAGE = new SupplyUsage("mercy-or", "ORMGR^MERCY_OR", "C1", "DFT^P03", null, null,
            null, null, null, List.of(), List.of());

    @Test
    void servesOnlyTheValueItWasStoredAs() {
        OpenedUsages usages = new OpenedUsages();
        String json = RenderSpec.UNVERSIONED.journal("{\"interfaceId\":\"mercy-or\"}");
        usages.journaled(7, "sealed-7", USAGE, json);
        assertThat(usages.get(7, "sealed-7").usage()).isSameAs(USAGE);
        assertThat(usages.get(7, "sealed-7").spec()).isEqualTo(RenderSpec.UNVERSIONED);
        assertThat(usages.get(7, "sealed-7-changed")).as("another stored value").isNull();
        assertThat(usages.get(8, "sealed-7")).as("another message").isNull();
    }

    @Test
    void anIntakeOnlyNodeKeepsNothing() {
        OpenedUsages usages = new OpenedUsages(false);
        usages.journaled(7, "sealed-7", USAGE, "{}");
        assertThat(usages.get(7, "sealed-7")).isNull();
    }

    @Test
    void isBoundedByTheStoredValuesLength() {
        OpenedUsages usages = new OpenedUsages();
        String stored = "x".repeat(100_000);
        int entries = (int) (OpenedUsages.MAX_STORED_CHARS / stored.length()) * 3;
        for (int id = 0; id < entries; id++) {
            usages.journaled(id, stored, USAGE, "{}");
        }
        long kept = java.util.stream.IntStream.range(0, entries).filter(id -> usages.get(id, stored) != null).count();
        assertThat(kept).isPositive().isLessThanOrEqualTo(OpenedUsages.MAX_STORED_CHARS / stored.length());
    }

    @Test
    void onlyTextThatSurvivesTheJournalUnchangedIsKept() {
        assertThat(Journal.storedAsIs("{\"a\":\"Ünïcödé 🦴\"}")).isTrue();
        assertThat(Journal.storedAsIs("")).isTrue();
        assertThat(Journal.storedAsIs("a\0b")).as("NUL becomes U+FFFD").isFalse();
        assertThat(Journal.storedAsIs("a\uD83D")).as("a high surrogate at the end").isFalse();
        assertThat(Journal.storedAsIs("a\uDE00b")).as("a lone low surrogate").isFalse();
        assertThat(Journal.storedAsIs("a\uD83Db")).as("a high surrogate without its low").isFalse();
    }
}
