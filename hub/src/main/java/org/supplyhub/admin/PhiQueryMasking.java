package org.supplyhub.admin;

import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.filter.OncePerRequestFilter;
import org.supplyhub.security.PhiFreeRequestCache;

import java.io.IOException;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Keeps the patient identifiers a person types into a search (the console's MRN and account fields,
 * the API's {@code patient}, {@code account}, {@code serial}, {@code udi}, {@code lot}) out of every log line
 * that quotes the request's query string: Spring MVC's and Spring Security's DEBUG lines; and marks the
 * request so that the console does not save it for after sign-in ({@link PhiFreeRequestCache}).
 * It runs first and hides their values in {@link HttpServletRequest#getQueryString()} only; the
 * parameters the controllers read are untouched.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 5)
public class PhiQueryMasking extends OncePerRequestFilter {

    static final Set<String> PHI_PARAMETERS = Set.of("patient", "account", "serial", "udi", "lot");
    static final String MASK = "%5Bhidden%5D";
    private static final Pattern PHI = Pattern.compile("(^|&)(" + String.join("|", PHI_PARAMETERS) + ")=[^&]*");

    @Override
    protected boolean shouldNotFilter(HttpServletRequest request) {
        String query = request.getQueryString();
        return query == null || !PHI.matcher(query).find();
    }

    @Override
    protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
            throws ServletException, IOException {
        String masked = mask(request.getQueryString());
        request.setAttribute(PhiFreeRequestCache.PHI_QUERY, Boolean.TRUE);
        chain.doFilter(new HttpServletRequestWrapper(request) {
            @Override
            public String getQueryString() {
                return masked;
            }
        }, response);
    }

    static String mask(String query) {
        return query == null ? null : PHI.matcher(query).replaceAll("$1$2=" + MASK);
    }
}
