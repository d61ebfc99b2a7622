package org.supplyhub.security;

import org.springframework.security.core.userdetails.User;
import org.springframework.security.core.userdetails.UserDetailsService;
import org.springframework.security.provisioning.InMemoryUserDetailsManager;
import org.supplyhub.mapping.ConfigurationException;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** The people who sign in at the embedded issuer ({@code hub.security.users}), checked when the hub starts. */
public final class IssuerUsers {

    /** The id token claim the embedded issuer puts a person's console roles in. */
    public static final String ROLES_CLAIM = "roles";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,64}");

    /** One person: login name, hashed password, console roles, display name. */
    public record Person(String username, String password, List<String> roles, String displayName) { }

    private final Map<String, Person> people;

    private IssuerUsers(Map<String, Person> people) {
        this.people = people;
    }

    static IssuerUsers of(Map<String, SecurityProperties.User> users, Pattern hashed) {
        Map<String, Person> people = new LinkedHashMap<>();
        users.forEach((username, user) -> {
            String where = "hub.security.users[" + username + "]: ";
            if (!NAME.matcher(username).matches()) {
                throw new ConfigurationException("hub.security.users: '" + username
                        + "' is not a login name (letters, digits, . _ @ -, up to 64)");
            }
            if (user.password() == null || !hashed.matcher(user.password()).matches()) {
                throw new ConfigurationException(where + "the password must be hashed with its prefix, e.g. {bcrypt}$2a$10$…"
                        + " (plain text passwords are refused)");
            }
            if (user.roles().isEmpty()) {
                throw new ConfigurationException(where + "give the person a role: viewer, operator or admin");
            }
            for (String role : user.roles()) {
                if (ConsoleRole.of(role).isEmpty()) {
                    throw new ConfigurationException(where + "'" + role + "' is not a role; the roles are viewer, operator, admin");
                }
            }
            String name = user.name() == null || user.name().isBlank() ? username : user.name();
            people.put(username, new Person(username, user.password(), user.roles(), name));
        });
        return new IssuerUsers(Map.copyOf(people));
    }

    public Optional<Person> find(String username) {
        return Optional.ofNullable(people.get(username));
    }

    /** For the issuer's form login; a person without an entry here cannot sign in. */
    UserDetailsService userDetailsService() {
        return new InMemoryUserDetailsManager(people.values().stream()
                .map(p -> User.withUsername(p.username()).password(p.password())
                        .authorities(p.roles().stream().map(r -> ConsoleUser.ROLE_PREFIX + r).toArray(String[]::new)).build())
                .map(u -> (org.springframework.security.core.userdetails.UserDetails) u).toList());
    }
}
