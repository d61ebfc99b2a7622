package org.supplyhub.admin.console;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A raw HL7 v2 message as the console shows it: segment by segment, each non-empty field with its
 * number ({@code PID-3}, {@code FT1-7}), split with the message's own field separator (MSH-1).
 * MSH counts its separator as MSH-1 and its encoding characters as MSH-2, as the standard does.
 * Values are shown as received (components and escapes included); the page escapes them for HTML.
 */
public final class Er7View {

    /** One field: {@code name} like PID-3. */
    public record Field(String name, String value) { }

    /** One segment; {@code index} is its position in the message (1-based). */
    public record Segment(int index, String id, List<Field> fields) { }

    private static final Pattern SEGMENT_END = Pattern.compile("\r\n|\r|\n");

    private Er7View() {
    }

    public static List<Segment> of(String raw) {
        List<Segment> segments = new ArrayList<>();
        if (raw == null || raw.isEmpty()) {
            return segments;
        }
        char separator = raw.startsWith("MSH") && raw.length() > 3 ? raw.charAt(3) : '|';
        int index = 0;
        for (String line : SEGMENT_END.split(raw)) {
            if (line.isBlank()) {
                continue;
            }
            index++;
            String[] parts = line.split(Pattern.quote(String.valueOf(separator)), -1);
            String id = parts[0];
            List<Field> fields = new ArrayList<>();
            boolean header = id.equals("MSH") || id.equals("BHS") || id.equals("FHS");
            if (header) {
                fields.add(new Field(id + "-1", String.valueOf(separator)));
            }
            for (int i = 1; i < parts.length; i++) {
                if (!parts[i].isEmpty()) {
                    fields.add(new Field(id + "-" + (header ? i + 1 : i), parts[i]));
                }
            }
            segments.add(new Segment(index, id, fields));
        }
        return segments;
    }
}
