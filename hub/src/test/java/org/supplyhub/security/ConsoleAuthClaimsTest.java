package org.supplyhub.security;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A person's claims → their console role and whether they used a second factor; plain logic, no Spring. */
class ConsoleAuthClaimsTest {

    static ConsoleProperties console(List<String> amr, List<String> acr) {
        return new ConsoleProperties(null, true, amr, acr, null, null, null, null, null);
    }

    @Test
    void rolesAreReadFromAClaimOrADottedPathAndTheHighestWins() {
        Map<String, Object> keycloak = Map.of("realm_access", Map.of("roles", List.of("offline_access", "viewer", "operator")));
        assertThat(ConsoleClaims.values(keycloak, "realm_access.roles")).containsExactly("offline_access", "viewer", "operator");
        assertThat(ConsoleRole.highest(ConsoleClaims.values(keycloak, "realm_access.roles"))).contains(ConsoleRole.OPERATOR);
        assertThat(ConsoleClaims.values(Map.of("roles", "viewer admin"), "roles")).containsExactly("viewer", "admin");
        assertThat(ConsoleRole.highest(ConsoleClaims.values(Map.of("roles", "viewer,admin"), "roles"))).contains(ConsoleRole.ADMIN);
        assertThat(ConsoleClaims.values(Map.of("roles", List.of("viewer")), "realm_access.roles")).isEmpty();
        assertThat(ConsoleRole.highest(List.of("superuser", "Admin"))).isEmpty();
    }

    @Test
    void eachRoleCarriesTheScopesOfTheOneBelowAndMore() {
        assertThat(ConsoleRole.VIEWER.scopes()).containsExactlyInAnyOrder("messages:read", "metrics:read");
        assertThat(ConsoleRole.OPERATOR.scopes()).containsAll(ConsoleRole.VIEWER.scopes()).contains("messages:replay");
        assertThat(ConsoleRole.ADMIN.scopes()).containsAll(ConsoleRole.OPERATOR.scopes()).contains("config:write", "audit:read");
        assertThat(ConsoleRole.VIEWER.scopes()).doesNotContain("messages:replay");
    }

    @Test
    void aSecondFactorShowsInAmrOrAcr() {
        ConsoleProperties defaults = console(null, List.of("gold"));
        assertThat(ConsoleClaims.hasSecondFactor(Map.of("amr", List.of("pwd")), defaults)).isFalse();
        assertThat(ConsoleClaims.hasSecondFactor(Map.of("amr", List.of("pwd", "otp")), defaults)).isTrue();
        assertThat(ConsoleClaims.hasSecondFactor(Map.of("amr", List.of("pwd"), "acr", "gold"), defaults)).isTrue();
        assertThat(ConsoleClaims.hasSecondFactor(Map.of("acr", "1"), defaults)).isFalse();
        assertThat(ConsoleClaims.hasSecondFactor(Map.of(), defaults)).isFalse();
    }
}
