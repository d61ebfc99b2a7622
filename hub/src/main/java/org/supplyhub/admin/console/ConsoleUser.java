package org.supplyhub.admin.console;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;

import java.security.Principal;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The person signed in to the console: their login name (the audit trail's), the name the header
 * shows, the role their scopes amount to (viewer, operator, admin), and what they may do. Pages
 * decide what to render from this; the security chain decides what may be requested.
 *
 * @param username {@code preferred_username}, else {@code sub} (else the principal's name)
 * @param name     the display name ({@code name} claim), else the username
 */
public record ConsoleUser(String username, String name, String role, boolean canReplay, boolean canReadAudit) {

    public static final String REPLAY = "SCOPE_messages:replay";
    public static final String AUDIT = "SCOPE_audit:read";
    public static final String CONFIG = "SCOPE_config:write";

    /** The audit actor of a person: {@code user:<preferred_username or sub>}. */
    public String actor() {
        return "user:" + username;
    }

    public static ConsoleUser of(Principal principal) {
        if (!(principal instanceof Authentication auth)) {
            String name = principal == null ? "anonymous" : principal.getName();
            return new ConsoleUser(name, name, "viewer", false, false);
        }
        String username = auth.getName();
        String name = username;
        if (auth.getPrincipal() instanceof OidcUser oidc) {
            username = oidc.getPreferredUsername() != null ? oidc.getPreferredUsername() : oidc.getSubject();
            name = oidc.getFullName() != null && !oidc.getFullName().isBlank() ? oidc.getFullName() : username;
        }
        Set<String> granted = auth.getAuthorities().stream().map(GrantedAuthority::getAuthority).collect(Collectors.toSet());
        boolean replay = granted.contains(REPLAY);
        boolean audit = granted.contains(AUDIT);
        String role = audit || granted.contains(CONFIG) ? "admin" : replay ? "operator" : "viewer";
        return new ConsoleUser(username, name, role, replay, audit);
    }
}
