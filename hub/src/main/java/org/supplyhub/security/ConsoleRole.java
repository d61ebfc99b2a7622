package org.supplyhub.security;

import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A person's role in the console, and the scopes it stands for: a console session carries
 * {@code SCOPE_<scope>} authorities exactly like a bearer token, so {@link AccessRules} decides for both.
 * Each role includes the one before it.
 */
public enum ConsoleRole {
    VIEWER(List.of("messages:read", "metrics:read")),
    OPERATOR(List.of("messages:read", "metrics:read", "messages:replay")),
    ADMIN(List.of("messages:read", "metrics:read", "messages:replay", "config:write", "audit:read"));

    private final List<String> scopes;

    ConsoleRole(List<String> scopes) {
        this.scopes = scopes;
    }

    public List<String> scopes() {
        return scopes;
    }

    /** The name used in configuration, in tokens and on the page: viewer, operator, admin. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<ConsoleRole> of(String name) {
        for (ConsoleRole role : values()) {
            if (role.id().equals(name)) {
                return Optional.of(role);
            }
        }
        return Optional.empty();
    }

    /** The highest of the roles named (names that are not console roles are ignored). */
    public static Optional<ConsoleRole> highest(Collection<String> names) {
        return names.stream().map(ConsoleRole::of).flatMap(Optional::stream)
                .max(java.util.Comparator.naturalOrder());
    }
}
