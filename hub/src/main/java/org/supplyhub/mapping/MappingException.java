package org.supplyhub.mapping;

import ca.uhn.hl7v2.ErrorCode;

/**
 * A message that parses but cannot be mapped: unknown item, bad UDI, missing patient id…
 * Answered with AE; the text names the field and never carries patient data.
 */
public class MappingException extends RuntimeException {

    private final String path;
    private final int lineIndex;
    private final ErrorCode errorCode;

    public MappingException(String path, int lineIndex, ErrorCode errorCode, String message) {
        super(message);
        this.path = path;
        this.lineIndex = lineIndex;
        this.errorCode = errorCode;
    }

    /** The Terser path of the offending field, e.g. {@code FT1-7-1} or {@code ZIM-2}. */
    public String path() {
        return path;
    }

    /** 1-based line (FT1 group) the field belongs to; 0 for message-level fields. */
    public int lineIndex() {
        return lineIndex;
    }

    public ErrorCode errorCode() {
        return errorCode;
    }
}
