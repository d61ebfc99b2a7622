package org.supplyhub.security;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;

import java.util.Optional;

/**
 * The person signed in to the console, as the pages show them and the audit trail names them.
 *
 * @param username the login name ({@code preferred_username}, else {@code sub})
 * @param name     the display name ({@code name}, else the username)
 * @param role     the highest console role the session holds
 */
public record ConsoleUser(String username, String name, ConsoleRole role) {

    /** Authority a console session carries besides its scopes, naming its role. */
    static final String ROLE_PREFIX = "ROLE_";

    /** The audit actor of a person: {@code user:<preferred_username or sub>}. */
    public String actor() {
        return "user:" + username;
    }

    /** The person behind a console session; empty for anyone else (a bearer token, nobody). */
    public static Optional<ConsoleUser> of(Authentication authentication) {
        if (authentication == null || !(authentication.getPrincipal() instanceof OidcUser person)) {
            return Optional.empty();
        }
        Optional<ConsoleRole> role = ConsoleRole.highest(authentication.getAuthorities().stream()
                .map(GrantedAuthority::getAuthority).filter(a -> a.startsWith(ROLE_PREFIX))
                .map(a -> a.substring(ROLE_PREFIX.length())).toList());
        String username = person.getPreferredUsername() != null ? person.getPreferredUsername() : person.getSubject();
        String name = person.getFullName() != null && !person.getFullName().isBlank() ? person.getFullName() : username;
        return role.map(r -> new ConsoleUser(username, name, r));
    }
}
