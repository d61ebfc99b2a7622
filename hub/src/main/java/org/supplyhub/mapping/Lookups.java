package org.supplyhub.mapping;

import java.util.Map;

/** A profile's lookup tables by the name its rules use ({@code lookups: { codeSystems: code-systems.csv }}). */
final class Lookups {

    static final Lookups NONE = new Lookups(Map.of());

    private final Map<String, LookupTable> tables;

    Lookups(Map<String, LookupTable> tables) {
        this.tables = Map.copyOf(tables);
    }

    /** The translation of {@code code} in table {@code name}, or null. */
    String value(String name, String code) {
        LookupTable table = tables.get(name);
        return table == null ? null : table.value(code);
    }

    String display(String name, String code) {
        LookupTable table = tables.get(name);
        return table == null ? null : table.display(code);
    }

    String file(String name) {
        LookupTable table = tables.get(name);
        return table == null ? "no such table" : table.file();
    }

    boolean has(String name) {
        return tables.containsKey(name);
    }
}
