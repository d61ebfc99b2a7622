package org.supplyhub.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The messages in a file as an engineer saves them: one or several ER7 messages, each starting with
 * MSH at the start of a line, or MLLP-framed (VT … FS CR) as captured off the wire. Bytes are kept as
 * they are, so the charset is found as intake finds it (MSH-18 or the interface's default).
 */
final class MessageFiles {

    private static final char VT = 0x0b;
    private static final char FS = 0x1c;

    private MessageFiles() {
    }

    static List<byte[]> read(Path file) throws IOException {
        return split(Files.readAllBytes(file));
    }

    static List<byte[]> split(byte[] content) {
        // ISO-8859-1 maps each byte to one char and back, so splitting the text splits the bytes
        String text = new String(content, StandardCharsets.ISO_8859_1);
        List<String> messages = new ArrayList<>();
        if (text.indexOf(VT) >= 0) {
            for (String frame : text.split(String.valueOf(VT))) {
                int end = frame.indexOf(FS);
                String body = end < 0 ? frame : frame.substring(0, end);
                if (!body.isBlank()) {
                    messages.add(body);
                }
            }
        } else {
            StringBuilder current = new StringBuilder();
            for (String line : text.split("(?<=\r\n|\r(?!\n)|\n)")) {
                if (line.startsWith("MSH") && !current.toString().isBlank()) {
                    messages.add(current.toString());
                    current.setLength(0);
                }
                current.append(line);
            }
            if (!current.toString().isBlank()) {
                messages.add(current.toString());
            }
        }
        return messages.stream().map(m -> m.strip().getBytes(StandardCharsets.ISO_8859_1)).toList();
    }
}
