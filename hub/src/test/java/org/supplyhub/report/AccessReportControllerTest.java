package org.supplyhub.report;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AccessReportControllerTest {

    @Test
    void formatDecidesThenAccept() {
        assertThat(AccessReportController.wantsCsv("csv", "application/json")).isTrue();
        assertThat(AccessReportController.wantsCsv("JSON", "text/csv")).isFalse();
        assertThat(AccessReportController.wantsCsv(null, "text/csv")).isTrue();
        assertThat(AccessReportController.wantsCsv(null, "application/json, text/csv;q=0.5")).isFalse();
        assertThat(AccessReportController.wantsCsv(null, "*/*")).isFalse();
        assertThat(AccessReportController.wantsCsv(null, null)).isFalse();
        assertThatThrownBy(() -> AccessReportController.wantsCsv("xml", null)).hasMessage("format is csv or json");
    }

    @Test
    void datesAndTimesAreRead() {
        assertThat(AccessReportController.instant("since", "2026-11-29")).isEqualTo(Instant.parse("2026-11-29T00:00:00Z"));
        assertThat(AccessReportController.instant("until", "2026-11-29T08:00:00-06:00"))
                .isEqualTo(Instant.parse("2026-11-29T14:00:00Z"));
        assertThatThrownBy(() -> AccessReportController.instant("since", "yesterday")).hasMessageStartingWith("since is a date");
    }

    @Test
    void cellsASpreadsheetWouldRunAreDefused() {
        assertThat(AccessReportController.cell("=HYPERLINK(\"x\")")).isEqualTo("'=HYPERLINK(\"x\")");
        assertThat(AccessReportController.cell("@SUM(1)")).isEqualTo("'@SUM(1)");
        assertThat(AccessReportController.cell("client:hub-admin")).isEqualTo("client:hub-admin");
        assertThat(AccessReportController.cell(null)).isEmpty();
    }
}
