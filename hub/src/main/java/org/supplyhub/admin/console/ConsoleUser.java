package org.supplyhub.admin.console;

import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.oauth2.core.oidc.user.OidcUser;

import java.security.Principal;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The person signed in to the console: the name the audit trail and the header show, the role their
 * scopes amount to (viewer, operator, admin), and what they may do. Pages decide what to render from
 * this; the security chain decides what may be requested.
 */
public record ConsoleUser(String name, String role, boolean canReplay, boolean canReadAudit) {

    public static final String REPLAY = "SCOPE_messages:replay";
    public static final String AUDIT = "SCOPE_audit:read";
    public static final String CONFIG = "SCOPE_config:write";

    /** The audit actor of a person: {@code user:<preferred_username or sub>}. */
    public String actor() {
        return "user:" + name;
    }

    public static ConsoleUser of(Principal principal) {
        if (!(principal instanceof Authentication auth)) {
            return new ConsoleUser(principal == null ? "anonymous" : principal.getName(), "viewer", false, false);
        }
        String name = auth.getPrincipal() instanceof OidcUser oidc && oidc.getPreferredUsername() != null
                ? oidc.getPreferredUsername() : auth.getName();
        Set<String> granted = auth.getAuthorities().stream().map(GrantedAuthority::getAuthority).collect(Collectors.toSet());
        boolean replay = granted.contains(REPLAY);
        boolean audit = granted.contains(AUDIT);
        String role = audit || granted.contains(CONFIG) ? "admin" : replay ? "operator" : "viewer";
        return new ConsoleUser(name, role, replay, audit);
    }
}
