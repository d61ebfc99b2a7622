package org.supplyhub.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.security.oauth2.core.AuthorizationGrantType;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClient;
import org.springframework.security.oauth2.server.authorization.client.RegisteredClientRepository;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.IOException;
import java.net.URI;

/**
 * The authorization endpoint answers only clients people sign in to, and only for their registered
 * redirect URIs. Spring Authorization Server sends some errors (a machine client asking for a code:
 * {@code unauthorized_client}) to whatever {@code redirect_uri} the request named, which would make the
 * hub an open redirector; such requests get a 400 here and go nowhere.
 */
final class AuthorizeRequestGuard extends OncePerRequestFilter {

    private final RegisteredClientRepository clients;
    private final RequestMatcher authorize;
    private final ObjectMapper json;

    AuthorizeRequestGuard(RegisteredClientRepository clients, RequestMatcher authorize, ObjectMapper json) {
        this.clients = clients;
        this.authorize = authorize;
        this.json = json;
    }

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        return !authorize.matches(request);
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String clientId = request.getParameter("client_id");
        RegisteredClient client = clientId == null ? null : clients.findByClientId(clientId);
        String redirectUri = request.getParameter("redirect_uri");
        if (client == null || !client.getAuthorizationGrantTypes().contains(AuthorizationGrantType.AUTHORIZATION_CODE)) {
            refuse(response, "client_id does not name a client people sign in to");
            return;
        }
        if (redirectUri != null && !client.getRedirectUris().contains(redirectUri)) {
            refuse(response, "redirect_uri is not one registered for this client");
            return;
        }
        chain.doFilter(request, response);
    }

    private void refuse(HttpServletResponse response, String detail) throws IOException {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.BAD_REQUEST, "Not an authorization request this issuer serves: " + detail + ".");
        problem.setTitle("Bad Request");
        problem.setType(URI.create("https://supply-hub.org/problems/400"));
        response.setStatus(HttpStatus.BAD_REQUEST.value());
        response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
        json.writeValue(response.getOutputStream(), problem);
    }
}
