package org.supplyhub.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.security.authentication.AuthenticationCredentialsNotFoundException;
import org.springframework.security.authentication.InsufficientAuthenticationException;
import org.springframework.security.core.AuthenticationException;
import org.springframework.security.oauth2.core.OAuth2AuthenticationException;
import org.springframework.security.oauth2.jwt.BadJwtException;
import org.springframework.security.oauth2.jwt.JwtValidationException;
import org.springframework.security.oauth2.server.resource.web.BearerTokenAuthenticationEntryPoint;
import org.springframework.security.oauth2.server.resource.web.access.BearerTokenAccessDeniedHandler;
import org.springframework.security.web.AuthenticationEntryPoint;
import org.springframework.security.web.access.AccessDeniedHandler;
import org.springframework.stereotype.Component;
import org.supplyhub.journal.AuditLog;

import java.io.IOException;
import java.net.URI;

/**
 * 401 and 403 as problem JSON (RFC 9457), with the {@code WWW-Authenticate} header RFC 6750 asks for,
 * and each refusal audited. The detail says what was wrong with the token, never what it contained.
 */
@Component
public class ProblemResponses {

    private final ObjectMapper json;
    private final AuditLog audit;
    private final BearerTokenAuthenticationEntryPoint bearerEntryPoint = new BearerTokenAuthenticationEntryPoint();
    private final BearerTokenAccessDeniedHandler bearerDenied = new BearerTokenAccessDeniedHandler();

    public ProblemResponses(ObjectMapper json, AuditLog audit) {
        this.json = json;
        this.audit = audit;
    }

    public AuthenticationEntryPoint unauthorized() {
        return (request, response, e) -> {
            bearerEntryPoint.commence(request, response, e);
            audit.denied(AuditLog.anonymous(request.getRemoteAddr()), target(request), "401", reason(e));
            write(response, HttpStatus.UNAUTHORIZED, "Unauthorized",
                    "A valid bearer token is required (" + reason(e) + ").");
        };
    }

    public AccessDeniedHandler forbidden() {
        return (request, response, e) -> {
            bearerDenied.handle(request, response, e);
            String caller = request.getUserPrincipal() == null ? AuditLog.anonymous(request.getRemoteAddr())
                    : AuditLog.client(request.getUserPrincipal());
            audit.denied(caller, target(request), "403", "insufficient scope");
            write(response, HttpStatus.FORBIDDEN, "Forbidden",
                    "The token does not carry " + AccessRules.requiredScope(request) + ".");
        };
    }

    private void write(HttpServletResponse response, HttpStatus status, String title, String detail) throws IOException {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setTitle(title);
        problem.setType(URI.create("https://supply-hub.org/problems/" + status.value()));
        response.setStatus(status.value());
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        json.writeValue(response.getOutputStream(), problem);
    }

    /** What the request was for, in ids only (paths hold interface and message ids, never PHI). */
    private static String target(HttpServletRequest request) {
        String uri = request.getRequestURI();
        return request.getMethod() + " " + (uri.length() > 180 ? uri.substring(0, 180) : uri);
    }

    /** Read from the validators' typed errors and the exception types, never from message text. */
    static TokenFault fault(AuthenticationException e) {
        if (e instanceof InsufficientAuthenticationException || e instanceof AuthenticationCredentialsNotFoundException) {
            return TokenFault.NO_TOKEN;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof JwtValidationException invalid) {
                return invalid.getErrors().stream().filter(TokenFault.Error.class::isInstance)
                        .map(error -> ((TokenFault.Error) error).fault).findFirst().orElse(TokenFault.OTHER);
            }
            if (t instanceof com.nimbusds.jose.proc.BadJOSEException || t instanceof com.nimbusds.jose.JOSEException) {
                return TokenFault.SIGNATURE;
            }
            if (t instanceof java.text.ParseException) {
                return TokenFault.MALFORMED;
            }
        }
        if (e instanceof OAuth2AuthenticationException oauth && "invalid_request".equals(oauth.getError().getErrorCode())) {
            return TokenFault.MALFORMED; // an Authorization header that is not "Bearer <token>"
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BadJwtException) {
                return TokenFault.UNREADABLE;
            }
        }
        return TokenFault.OTHER;
    }

    private static String reason(AuthenticationException e) {
        return fault(e).reason;
    }
}
