package org.supplyhub.admin.console;

import org.springframework.security.access.AccessDeniedException;
import org.springframework.security.core.Authentication;
import org.supplyhub.security.ConsoleRole;

import java.security.Principal;

/**
 * What the console pages need of the person signed in: who they are and what they may do, read from
 * {@link org.supplyhub.security.ConsoleUser#of} (the one place a session's person and role are
 * worked out). Pages decide what to render from this; the security chain decides what may be requested.
 *
 * @param username {@code preferred_username}, else {@code sub}
 * @param name     the display name ({@code name} claim), else the username
 */
public record ConsoleUser(String username, String name, String role, boolean canReplay, boolean canReadAudit) {

    /** The audit actor of a person: {@code user:<preferred_username or sub>}. */
    public String actor() {
        return "user:" + username;
    }

    /** The person behind the request; refused if it is not a console session (the chain lets none through). */
    public static ConsoleUser of(Principal principal) {
        org.supplyhub.security.ConsoleUser person = (principal instanceof Authentication auth
                ? org.supplyhub.security.ConsoleUser.of(auth) : java.util.Optional.<org.supplyhub.security.ConsoleUser>empty())
                .orElseThrow(() -> new AccessDeniedException("not a console session"));
        ConsoleRole role = person.role();
        return new ConsoleUser(person.username(), person.name(), role.id(),
                role.compareTo(ConsoleRole.OPERATOR) >= 0, role == ConsoleRole.ADMIN);
    }
}
