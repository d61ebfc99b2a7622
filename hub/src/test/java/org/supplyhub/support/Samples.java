package org.supplyhub.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;

/** The sample messages, and variants of them with a fresh control id. */
public final class Samples {

    public static final String MERCY = "dft-p03-v251-zim.hl7";
    public static final String MERCY_CREDIT = "dft-p03-v251-credit.hl7";
    public static final String LAKESIDE = "dft-p03-v28-prt.hl7";

    private Samples() {
    }

    public static String read(String name) {
        try {
            return Files.readString(TestInterfaces.samples().resolve(name), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String controlId(String message) {
        return message.split("\r")[0].split("\\|")[9];
    }

    /** The message with MSH-10 replaced. */
    public static String withControlId(String message, String controlId) {
        String[] segments = message.split("\r", -1);
        String[] msh = segments[0].split("\\|", -1);
        msh[9] = controlId;
        segments[0] = String.join("|", msh);
        return String.join("\r", segments);
    }

    /** Replaces field n (1-based, not MSH) of the first segment with the given id. */
    public static String withField(String message, String segment, int field, String value) {
        String[] segments = message.split("\r", -1);
        for (int i = 0; i < segments.length; i++) {
            if (segments[i].startsWith(segment + "|")) {
                String[] fields = segments[i].split("\\|", -1);
                fields[field] = value;
                segments[i] = String.join("|", fields);
                break;
            }
        }
        return String.join("\r", segments);
    }
}
