package org.supplyhub.retention;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RetentionPolicyTest {

    static final Instant NOW = Instant.parse("2026-11-29T02:15:00Z");

    @Test
    void eachOverrideIsItsOwnGroupAndTheDefaultCoversTheRest() {
        RetentionPolicy policy = new RetentionPolicy(Duration.ofDays(90),
                Map.of("mercy-or", Duration.ofDays(30), "lakeside-cath", Duration.ofDays(2555)));
        List<RetentionPolicy.Group> groups = policy.groups(NOW);
        assertThat(groups).extracting(RetentionPolicy.Group::interfaceId).containsExactly("lakeside-cath", "mercy-or", null);
        assertThat(groups.get(1).cutoff()).isEqualTo(Instant.parse("2026-10-30T02:15:00Z"));
        assertThat(groups.get(2).except()).containsExactly("lakeside-cath", "mercy-or");
        assertThat(groups.get(2).cutoff()).isEqualTo(NOW.minus(Duration.ofDays(90)));
        assertThat(groups.get(1).reason()).isEqualTo("retention: content kept 30 days after receipt, every delivery done"
                + " (hub.retention.interfaces.mercy-or)");
        assertThat(groups.get(2).reason()).contains("90 days").contains("hub.retention.default");
        assertThat(policy.periodOf("valley-cath")).isEqualTo(Duration.ofDays(90));
    }

    @Test
    void aPeriodUnderADayIsRefusedNamingTheSetting() {
        // "90" without a unit binds as 90 milliseconds: everything delivered would go at once
        assertThatThrownBy(() -> new RetentionPolicy(Duration.ofMillis(90), Map.of()))
                .hasMessageContaining("hub.retention.default must be at least 1d");
        assertThatThrownBy(() -> new RetentionPolicy(Duration.ofDays(90), Map.of("mercy-or", Duration.ofHours(12))))
                .hasMessageContaining("hub.retention.interfaces.mercy-or");
        assertThat(RetentionPolicy.words(Duration.ofDays(1))).isEqualTo("1 day");
        assertThat(RetentionPolicy.words(Duration.ofHours(36))).isEqualTo("PT36H");
    }
}
