package org.supplyhub.security;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.web.authentication.AuthenticationFailureHandler;
import org.springframework.security.web.authentication.AuthenticationSuccessHandler;
import org.springframework.security.web.authentication.SimpleUrlAuthenticationFailureHandler;
import org.springframework.security.web.util.matcher.RequestMatcher;
import org.springframework.web.filter.OncePerRequestFilter;
import org.supplyhub.journal.AuditLog;

import java.io.IOException;
import java.time.Duration;

/**
 * Failed password sign-ins at the embedded issuer's form login: each is audited ({@code SIGN_IN_FAILED},
 * the user name tried and the source; floods fold per source and minute like other refusals) and counted
 * by the {@link SignInThrottle}; while it refuses, a sign-in is answered like a wrong password without the
 * password being checked. The page says the same in every case, so it tells a guesser nothing.
 */
final class SignInFailures {

    static final String ACTION = "SIGN_IN_FAILED";
    private static final int MAX_USER_NAME = 64;

    private final SignInThrottle throttle;
    private final AuditLog audit;
    private final SimpleUrlAuthenticationFailureHandler page;

    SignInFailures(SignInThrottle throttle, AuditLog audit, String failureUrl) {
        this.throttle = throttle;
        this.audit = audit;
        this.page = new SimpleUrlAuthenticationFailureHandler(failureUrl);
    }

    /** Before the password is checked: refuses a sign-in while its source or user is held back. */
    OncePerRequestFilter gate(RequestMatcher signIn) {
        return new OncePerRequestFilter() {
            @Override
            protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                    throws ServletException, IOException {
                if (signIn.matches(request)) {
                    String user = userName(request);
                    Duration wait = throttle.refusedFor(request.getRemoteAddr(), user);
                    if (!wait.isZero()) {
                        record(request, user, "LOCKED", "refused without checking the password, held back "
                                + Math.max(1, wait.toSeconds()) + " s more after repeated failures");
                        page.onAuthenticationFailure(request, response, null);
                        return;
                    }
                }
                chain.doFilter(request, response);
            }
        };
    }

    AuthenticationFailureHandler failed() {
        return (request, response, e) -> {
            String user = userName(request);
            throttle.failed(request.getRemoteAddr(), user);
            record(request, user, "401", "wrong user name or password");
            page.onAuthenticationFailure(request, response, e);
        };
    }

    AuthenticationSuccessHandler succeeded(AuthenticationSuccessHandler next) {
        return (request, response, who) -> {
            throttle.succeeded(who.getName());
            next.onAuthenticationSuccess(request, response, who);
        };
    }

    private void record(HttpServletRequest request, String user, String outcome, String detail) {
        // the source is filled in from the request being served
        audit.record(AuditLog.anonymous(request.getRemoteAddr()), ACTION, null, "sign-in as " + user, outcome, detail);
    }

    /** The user name typed, bounded and printable (it goes into the audit trail). */
    static String userName(HttpServletRequest request) {
        String typed = request.getParameter("username");
        if (typed == null) {
            return "";
        }
        String clean = typed.strip().replaceAll("\\p{Cntrl}", "?");
        return clean.length() <= MAX_USER_NAME ? clean : clean.substring(0, MAX_USER_NAME) + "…";
    }

}
