package org.supplyhub.hl7;

/**
 * The MSH fields needed before (or without) a full parse: who sent it, what it is, its control id.
 * Read by hand so that a message HAPI cannot parse can still be answered and journaled.
 */
public record Hl7Header(String sendingApplication, String sendingFacility, String receivingApplication,
                 String receivingFacility, String messageType, String triggerEvent, String controlId,
                 String processingId, String version) {

    /** MSH-3^MSH-4, first components: the sender whose control ids must be unique. */
    public String sender() {
        return nz(sendingApplication) + "^" + nz(sendingFacility);
    }

    /** MSH-9-1^MSH-9-2, e.g. DFT^P03. */
    public String type() {
        return messageType == null ? null : triggerEvent == null ? messageType : messageType + "^" + triggerEvent;
    }

    /**
     * Null when the text does not start with a usable MSH segment (no MSH, or MSH-1/MSH-2 that
     * cannot be delimiters); never throws, whatever the bytes.
     */
    public static Hl7Header read(String text) {
        int start = 0;
        while (start < text.length() && Character.isWhitespace(text.charAt(start))) {
            start++;
        }
        if (!text.startsWith("MSH", start) || Hl7Limits.checkMsh(text, start) != null) {
            return null;
        }
        int end = start;
        while (end < text.length() && text.charAt(end) != '\r' && text.charAt(end) != '\n') {
            end++;
        }
        String msh = text.substring(start, end);
        char fieldSep = msh.charAt(3);
        char componentSep = msh.charAt(4);
        // fields[0] = "MSH", fields[1] = encoding characters = MSH-2, so MSH-n = fields[n - 1]
        String[] fields = split(msh, fieldSep);
        return new Hl7Header(
                component(fields, 3, 0, componentSep), component(fields, 4, 0, componentSep),
                component(fields, 5, 0, componentSep), component(fields, 6, 0, componentSep),
                component(fields, 9, 0, componentSep), component(fields, 9, 1, componentSep),
                component(fields, 10, 0, componentSep), component(fields, 11, 0, componentSep),
                component(fields, 12, 0, componentSep));
    }

    private static String component(String[] fields, int msh, int component, char sep) {
        int index = msh - 1;
        if (index >= fields.length) {
            return null;
        }
        String[] parts = split(fields[index], sep);
        if (component >= parts.length) {
            return null;
        }
        String value = parts[component].trim();
        return value.isEmpty() ? null : value;
    }

    /**
     * {@code text.split(Pattern.quote(sep), -1)} without compiling a pattern: this ran ten times per
     * message (issue 16). Every piece is kept, empty ones included.
     */
    static String[] split(String text, char sep) {
        int count = 1;
        for (int i = text.indexOf(sep); i >= 0; i = text.indexOf(sep, i + 1)) {
            count++;
        }
        String[] parts = new String[count];
        int from = 0;
        for (int n = 0; n < count - 1; n++) {
            int at = text.indexOf(sep, from);
            parts[n] = text.substring(from, at);
            from = at + 1;
        }
        parts[count - 1] = text.substring(from);
        return parts;
    }

    private static String nz(String s) {
        return s == null ? "" : s;
    }
}
