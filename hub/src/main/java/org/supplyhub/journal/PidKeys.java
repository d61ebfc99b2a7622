package org.supplyhub.journal;

/**
 * The patient identifier (PID-3-1, first repetition) and account (PID-18-1) of a message that was not
 * mapped (ERROR, REJECTED), read from its text as far as it goes, so an operator can find a failed
 * message by MRN too. Never throws: a message too broken to read has no keys.
 */
record PidKeys(String patient, String account) {

    static final PidKeys NONE = new PidKeys(null, null);

    static PidKeys read(String text) {
        if (text == null) {
            return NONE;
        }
        int msh = text.startsWith("MSH") ? 0 : text.indexOf("MSH");
        if (msh < 0 || text.length() < msh + 8) {
            return NONE;
        }
        char field = text.charAt(msh + 3);
        char component = text.charAt(msh + 4);
        char repetition = text.charAt(msh + 5);
        if (Character.isLetterOrDigit(field) || field == '\r' || field == '\n') {
            return NONE;
        }
        for (String segment : text.split("[\r\n]+")) {
            String s = segment.strip();
            if (s.startsWith("PID" + field)) {
                String[] fields = s.split(java.util.regex.Pattern.quote(String.valueOf(field)), -1);
                return new PidKeys(first(fields, 3, component, repetition), first(fields, 18, component, repetition));
            }
        }
        return NONE;
    }

    private static String first(String[] fields, int n, char component, char repetition) {
        if (fields.length <= n) {
            return null;
        }
        String value = fields[n];
        int rep = value.indexOf(repetition);
        value = rep < 0 ? value : value.substring(0, rep);
        int comp = value.indexOf(component);
        value = comp < 0 ? value : value.substring(0, comp);
        return value.isBlank() ? null : value.trim();
    }
}
