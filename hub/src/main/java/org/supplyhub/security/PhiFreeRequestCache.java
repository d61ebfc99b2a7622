package org.supplyhub.security;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.security.web.savedrequest.HttpSessionRequestCache;

import java.util.Collections;
import java.util.Enumeration;
import java.util.Map;

/**
 * The console's saved request (where a person returns after signing in), kept free of patient
 * identifiers: a request whose query carries them (marked {@link #PHI_QUERY} by the admin package's
 * query masking, which runs first) is saved without its query, so the session holds no MRN and the
 * person lands on the same page, empty, rather than on a search for the masked "[hidden]".
 */
public class PhiFreeRequestCache extends HttpSessionRequestCache {

    /** Request attribute: the query string names patient identifiers. */
    public static final String PHI_QUERY = "org.supplyhub.phiQuery";

    @Override
    public void saveRequest(HttpServletRequest request, HttpServletResponse response) {
        super.saveRequest(request.getAttribute(PHI_QUERY) != null ? withoutQuery(request) : request, response);
    }

    private static HttpServletRequest withoutQuery(HttpServletRequest request) {
        return new HttpServletRequestWrapper(request) {
            @Override
            public String getQueryString() {
                return null;
            }

            @Override
            public String getParameter(String name) {
                return null;
            }

            @Override
            public Map<String, String[]> getParameterMap() {
                return Map.of();
            }

            @Override
            public Enumeration<String> getParameterNames() {
                return Collections.emptyEnumeration();
            }

            @Override
            public String[] getParameterValues(String name) {
                return null;
            }
        };
    }
}
