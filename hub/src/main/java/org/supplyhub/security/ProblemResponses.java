package org.supplyhub.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.security.core.AuthenticationException;
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
                    "The token does not carry the scope " + requiredScope(request) + ".");
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

    private static String reason(AuthenticationException e) {
        String message = e.getMessage() == null ? "" : e.getMessage();
        if (message.contains("expired")) {
            return "the token has expired";
        }
        if (message.contains("used before")) {
            return "the token is not valid yet";
        }
        if (message.contains("iss")) {
            return "the token is from an issuer this hub does not trust";
        }
        if (message.contains("aud")) {
            return "the token is not meant for this hub (audience)";
        }
        if (message.contains("Malformed") || message.contains("malformed")) {
            return "the token is malformed";
        }
        if (message.contains("signature") || message.contains("Signed JWT rejected")) {
            return "the token's signature does not verify";
        }
        if (e.getClass().getSimpleName().equals("InsufficientAuthenticationException")) {
            return "no bearer token was sent";
        }
        return "the token was not accepted";
    }

    static String requiredScope(HttpServletRequest request) {
        String uri = request.getRequestURI();
        if (uri.startsWith("/hl7/")) {
            return "ingest:" + uri.substring("/hl7/".length());
        }
        if (uri.startsWith("/api/") && uri.endsWith("/replay")) {
            return "messages:replay";
        }
        if (uri.startsWith("/api/")) {
            return "messages:read";
        }
        return uri.startsWith("/actuator/") ? "metrics:read" : "required for this endpoint";
    }
}
