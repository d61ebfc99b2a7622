package org.supplyhub.mapping;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class YamlLinesTest {

    private static final String PROFILE = """
            # a profile
            hl7Version: "2.8"
            message:
              patient: { path: PID-3-1, required: true }
            line:
              group: FINANCIAL
              devices:
                - each: PRT
                  where: { PRT-4-1: [IMP] }
                  udi: PRT-10-1
                - each: OBX
                  udi:
                    path: OBX-5
              item: { code: FT1-7-1,
                      system: FT1-7-3 }
            """;

    private final YamlLines lines = YamlLines.parse(PROFILE);

    @Test
    void keysAndListItemsByPath() {
        assertThat(lines.lineOf("hl7Version")).isEqualTo(2);
        assertThat(lines.lineOf("message", "patient")).isEqualTo(4);
        assertThat(lines.lineOf("message", "patient", "required")).as("flow mappings keep positions").isEqualTo(4);
        assertThat(lines.lineOf("line", "devices")).isEqualTo(7);
        assertThat(lines.lineOf("line", "devices", "0")).isEqualTo(8);
        assertThat(lines.lineOf("line", "devices", "0", "udi")).isEqualTo(10);
        assertThat(lines.lineOf("line", "devices", "1", "udi", "path")).isEqualTo(13);
        assertThat(lines.lineOf(List.of("line", "item", "system"))).isEqualTo(15);
    }

    @Test
    void fallsBackToTheNearestExistingParent() {
        assertThat(lines.lineOf("line", "devices", "1", "lot")).as("item 1 exists, its lot does not").isEqualTo(11);
        assertThat(lines.lineOf("line", "devices", "7", "udi")).isEqualTo(7);
        assertThat(lines.lineOf("line", "group", "deeper")).as("a scalar has no children").isEqualTo(6);
        assertThat(lines.lineOf("line", "devices", "x")).as("a list has no keys").isEqualTo(7);
        assertThat(lines.lineOf("nothing")).isZero();
        assertThat(lines.lineOf()).isZero();
    }

    @Test
    void brokenOrEmptyYamlAnswersUnknown() {
        assertThat(YamlLines.parse("a: [unclosed\nb: 1\n").lineOf("b")).isZero();
        assertThat(YamlLines.parse("").lineOf("a")).isZero();
    }

    @Test
    void readsAFile(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("p.yaml"), PROFILE);
        assertThat(YamlLines.read(file).lineOf("line", "group")).isEqualTo(6);
        assertThatThrownBy(() -> YamlLines.read(dir.resolve("missing.yaml"))).isInstanceOf(NoSuchFileException.class);
    }
}
