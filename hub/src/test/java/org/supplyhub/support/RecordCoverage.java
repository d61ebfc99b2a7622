package org.supplyhub.support;

import java.lang.reflect.RecordComponent;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which components of a record tree a set of generated values ever gives a value: a test that pins two
 * implementations together over random values (the direct writers against HAPI) can only see a field
 * its generator sets. Paths read {@code SupplyUsage.lines[].implants[].lot}; a component counts as set
 * when one value has it non-null (a collection or map: non-empty). Records nested in collections are
 * walked too; other types are leaves.
 */
public final class RecordCoverage {

    private final Set<String> all = new TreeSet<>();
    private final Set<String> set = new TreeSet<>();

    /** Walks one generated value. */
    public void add(Record value) {
        walk(value.getClass().getSimpleName(), value);
    }

    /** Component paths no value added so far has set. */
    public Set<String> neverSet() {
        Set<String> missing = new TreeSet<>(all);
        missing.removeAll(set);
        return missing;
    }

    private void walk(String path, Record value) {
        for (RecordComponent c : value.getClass().getRecordComponents()) {
            String at = path + "." + c.getName();
            all.add(at);
            Object v;
            try {
                v = c.getAccessor().invoke(value);
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException(at, e);
            }
            if (v instanceof Collection<?> items) {
                if (!items.isEmpty()) {
                    set.add(at);
                }
                for (Object item : items) {
                    if (item instanceof Record r) {
                        walk(at + "[]", r);
                    }
                }
            } else if (v instanceof Map<?, ?> map) {
                if (!map.isEmpty()) {
                    set.add(at);
                }
            } else if (v != null) {
                set.add(at);
                if (v instanceof Record r) {
                    walk(at, r);
                }
            }
        }
    }
}
