package org.supplyhub.security;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.http.HttpMethod;
import org.springframework.security.authorization.AuthorizationDecision;
import org.springframework.security.authorization.AuthorizationManager;
import org.springframework.security.core.Authentication;
import org.springframework.security.core.GrantedAuthority;
import org.springframework.security.web.access.intercept.RequestAuthorizationContext;
import org.springframework.security.web.servlet.util.matcher.PathPatternRequestMatcher;
import org.springframework.security.web.util.matcher.RequestMatcher;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one table of who may call what over HTTP: method(s) and path pattern → the scope a bearer
 * token or a console session must carry ({@code {name}} in a scope is the path variable of that name),
 * or open. Anything not in the table is refused, whatever the method: {@link SecurityConfiguration}
 * (the API) and {@link ConsoleSecurityConfiguration} (the console, whose sessions carry their role's
 * scopes, see {@link ConsoleRole}) build their rules from this table, and {@link ProblemResponses}
 * names the missing scope from it. Not in it: the embedded issuer's own endpoints (its sign-in page,
 * token, authorize…), the console's sign-in callback, and {@code POST /console/logout} (any person
 * signed in), which their filter chains serve before any rule applies.
 * HEAD is listed with GET wherever GET is, because Spring MVC answers HEAD with the GET handler.
 */
public final class AccessRules {

    /** Scope of an open rule: no token needed. */
    static final String OPEN = "";

    private static final Set<HttpMethod> READ = Set.of(HttpMethod.GET, HttpMethod.HEAD);
    private static final Set<HttpMethod> POST = Set.of(HttpMethod.POST);

    public static final List<Rule> RULES = List.of(
            new Rule(READ, "/actuator/health", OPEN),
            new Rule(READ, "/actuator/health/**", OPEN),
            new Rule(POST, "/hl7/{interfaceId}", "ingest:{interfaceId}"),
            new Rule(POST, "/api/messages/{id}/replay", "messages:replay"),
            new Rule(POST, "/api/messages/{id}/reprocess", "messages:replay"),
            new Rule(READ, "/api/messages", "messages:read"),
            new Rule(READ, "/api/messages/{id}", "messages:read"),
            new Rule(READ, "/api/messages/{id}/raw", "messages:read"),
            new Rule(READ, "/api/messages/{id}/outputs", "messages:read"),
            new Rule(READ, "/api/messages/{id}/attempts", "messages:read"),
            new Rule(READ, "/api/flags", "messages:read"),
            new Rule(READ, "/api/flags/{id}", "messages:read"),
            new Rule(POST, "/api/flags/{id}/release", "messages:replay"),
            new Rule(READ, "/api/audit", "audit:read"),
            new Rule(READ, "/api/audit/verify", "audit:read"),
            new Rule(POST, "/api/audit/checkpoint", "audit:read"),
            new Rule(READ, "/api/reports/access", "audit:read"),
            new Rule(READ, "/api/destinations", "messages:read"),
            new Rule(POST, "/api/destinations/{name}/pause", "messages:replay"),
            new Rule(POST, "/api/destinations/{name}/resume", "messages:replay"),
            new Rule(POST, "/api/replay", "messages:replay"),
            new Rule(READ, "/api/devices", "messages:read"),
            new Rule(READ, "/api/config", "messages:read"),
            new Rule(POST, "/api/config/reload", "config:write"),
            new Rule(READ, "/actuator/**", "metrics:read"),
            // OpenAPI description of the admin API (Swagger UI is off unless springdoc.swagger-ui.enabled); a
            // request without a bearer token is the console's, so a signed-in person can read them too
            new Rule(READ, "/v3/api-docs", "messages:read"),
            new Rule(READ, "/v3/api-docs.yaml", "messages:read"),
            new Rule(READ, "/v3/api-docs/**", "messages:read"),
            new Rule(READ, "/swagger-ui.html", "messages:read"),
            new Rule(READ, "/swagger-ui/**", "messages:read"),
            // the console: a person's session, its role's scopes
            new Rule(READ, "/console/assets/**", OPEN),
            new Rule(READ, "/console", "messages:read"),
            new Rule(READ, "/console/fragments/**", "messages:read"),
            new Rule(READ, "/console/messages", "messages:read"),
            new Rule(READ, "/console/messages/{id}", "messages:read"),
            new Rule(POST, "/console/messages/{id}/replay", "messages:replay"),
            new Rule(POST, "/console/messages/{id}/reprocess", "messages:replay"),
            new Rule(READ, "/console/replay", "messages:replay"),
            new Rule(POST, "/console/replay", "messages:replay"),
            new Rule(POST, "/console/destinations/{name}/pause", "messages:replay"),
            new Rule(POST, "/console/destinations/{name}/resume", "messages:replay"),
            new Rule(READ, "/console/audit", "audit:read"));

    /** The paths the console's filter chain serves (sessions, CSRF, sign-in by OpenID Connect). */
    public static final String CONSOLE = "/console";

    /** A path variable is put into a scope (and so into a 403's text) only if it looks like an id. */
    private static final Pattern SAFE_VARIABLE = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern VARIABLE = Pattern.compile("\\{([A-Za-z]+)}");

    private AccessRules() { }

    /**
     * One line of the table.
     *
     * @param scope the scope the token must carry, {@code {var}} taken from the path; {@link #OPEN} for none
     */
    public record Rule(Set<HttpMethod> methods, String pattern, String scope) {

        public boolean open() {
            return OPEN.equals(scope);
        }

        /** One matcher per method (a Spring Security matcher takes one method). */
        public List<RequestMatcher> matchers() {
            return methods.stream().sorted(java.util.Comparator.comparing(HttpMethod::name))
                    .map(m -> (RequestMatcher) PathPatternRequestMatcher.withDefaults().matcher(m, pattern)).toList();
        }

        /** Grants when the token carries {@code SCOPE_<scope>}, with the path's variables filled in. */
        public AuthorizationManager<RequestAuthorizationContext> manager() {
            return new AuthorizationManager<>() {
                @Override
                @SuppressWarnings("deprecation")
                public AuthorizationDecision check(Supplier<Authentication> authentication, RequestAuthorizationContext context) {
                    Optional<String> needed = resolve(context.getVariables());
                    Authentication caller = authentication.get();
                    boolean granted = needed.isPresent() && caller != null && caller.isAuthenticated()
                            && caller.getAuthorities().stream().map(GrantedAuthority::getAuthority)
                            .anyMatch(("SCOPE_" + needed.get())::equals);
                    return new AuthorizationDecision(granted);
                }
            };
        }

        /** The scope with its variables filled in; empty when a variable is missing or not id-like. */
        Optional<String> resolve(Map<String, String> variables) {
            Matcher m = VARIABLE.matcher(scope);
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                String value = variables.get(m.group(1));
                if (value == null || !SAFE_VARIABLE.matcher(value).matches()) {
                    return Optional.empty();
                }
                m.appendReplacement(out, Matcher.quoteReplacement(value));
            }
            m.appendTail(out);
            return Optional.of(out.toString());
        }
    }

    /** The first rule matching the request, and its match (for the path variables). */
    static Optional<Map.Entry<Rule, RequestMatcher.MatchResult>> match(HttpServletRequest request) {
        for (Rule rule : RULES) {
            for (RequestMatcher matcher : rule.matchers()) {
                RequestMatcher.MatchResult result = matcher.matcher(request);
                if (result.isMatch()) {
                    return Optional.of(Map.entry(rule, result));
                }
            }
        }
        return Optional.empty();
    }

    /** In words, for a 403: the scope this request needs, or why none would do. */
    static String requiredScope(HttpServletRequest request) {
        return match(request).map(m -> m.getKey().resolve(m.getValue().getVariables())
                        .map(scope -> "the scope " + scope)
                        .orElse("the scope " + m.getKey().scope() + " (for an existing " + m.getKey().pattern() + ")"))
                .orElse("no scope at all: nothing is served to this method at this path");
    }
}
