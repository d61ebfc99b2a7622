package org.supplyhub.security;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/** What a person's claims say: their roles, and whether they signed in with a second factor. */
final class ConsoleClaims {

    private ConsoleClaims() { }

    /**
     * The values at {@code path} ({@code roles}, or dotted into objects: {@code realm_access.roles}); a
     * list, or a string of names separated by spaces or commas.
     */
    static List<String> values(Map<String, Object> claims, String path) {
        Object value = claims;
        for (String part : path.split("\\.")) {
            if (!(value instanceof Map<?, ?> map)) {
                return List.of();
            }
            value = map.get(part);
        }
        if (value instanceof Collection<?> many) {
            return many.stream().filter(Objects::nonNull).map(String::valueOf).toList();
        }
        if (value instanceof String one && !one.isBlank()) {
            return List.of(one.trim().split("[\\s,]+"));
        }
        return List.of();
    }

    /** A second factor shows in {@code amr} (a listed method) or {@code acr} (a listed level). */
    static boolean hasSecondFactor(Map<String, Object> claims, ConsoleProperties console) {
        boolean amr = values(claims, "amr").stream().anyMatch(console.mfaAmr()::contains);
        Object acr = claims.get("acr");
        return amr || (acr != null && console.mfaAcr().contains(String.valueOf(acr)));
    }
}
