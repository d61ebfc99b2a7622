package org.supplyhub.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletInputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.web.servlet.FilterRegistrationBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.web.filter.OncePerRequestFilter;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.net.URI;
import java.time.Duration;

/**
 * A whole request body must arrive within {@code hub.security.body-read-timeout} (30 s). Tomcat's
 * {@code connection-timeout} bounds each read, not the body: a sender trickling a byte every few
 * seconds would otherwise hold a request thread for as long as it likes. Past the deadline the
 * next read fails, and the sender gets 408 and a closed connection.
 */
@Configuration
public class BodyReadDeadline {

    @Bean
    FilterRegistrationBean<OncePerRequestFilter> bodyReadDeadlineFilter(
            @Value("${hub.security.body-read-timeout:30s}") Duration timeout, ObjectMapper json) {
        FilterRegistrationBean<OncePerRequestFilter> registration = new FilterRegistrationBean<>(new Filter(timeout, json));
        registration.setOrder(Ordered.HIGHEST_PRECEDENCE);
        return registration;
    }

    /** Thrown by a read after the deadline. */
    static final class TooSlow extends IOException {
        TooSlow() {
            super("request body not received in time");
        }
    }

    static final class Filter extends OncePerRequestFilter {
        private final long timeoutNanos;
        private final ObjectMapper json;

        Filter(Duration timeout, ObjectMapper json) {
            this.timeoutNanos = timeout.toNanos();
            this.json = json;
        }

        @Override
        protected void doFilterInternal(HttpServletRequest request, HttpServletResponse response, FilterChain chain)
                throws ServletException, IOException {
            long deadline = System.nanoTime() + timeoutNanos;
            try {
                HttpServletRequest deadlined = new HttpServletRequestWrapper(request) {
                    private ServletInputStream in;

                    @Override
                    public ServletInputStream getInputStream() throws IOException {
                        if (in == null) {
                            in = new Deadlined(super.getInputStream(), deadline);
                        }
                        return in;
                    }
                };
                chain.doFilter(isForm(request) ? FormBody.read(deadlined) : deadlined, response);
            } catch (IOException | ServletException | RuntimeException e) {
                if (!causedBy(e) || response.isCommitted()) {
                    throw e;
                }
                ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.REQUEST_TIMEOUT,
                        "The request body did not arrive within " + Duration.ofNanos(timeoutNanos).toSeconds() + " s.");
                problem.setTitle("Request Timeout");
                problem.setType(URI.create("https://supply-hub.org/problems/408"));
                response.resetBuffer();
                response.setStatus(HttpStatus.REQUEST_TIMEOUT.value());
                response.setHeader("Connection", "close");
                response.setContentType(MediaType.APPLICATION_PROBLEM_JSON_VALUE);
                json.writeValue(response.getOutputStream(), problem);
            }
        }

        /** Tomcat reads a form body itself for {@code getParameter}, past any stream wrapper. */
        private static boolean isForm(HttpServletRequest request) {
            String type = request.getContentType();
            return type != null && "POST".equals(request.getMethod())
                    && type.toLowerCase(java.util.Locale.ROOT).startsWith(MediaType.APPLICATION_FORM_URLENCODED_VALUE);
        }

        private static boolean causedBy(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof TooSlow) {
                    return true;
                }
            }
            return false;
        }
    }

    /**
     * A form body (the token endpoint's) read here, through the deadline, and served to the
     * parameter methods from memory: otherwise Tomcat would read it with only its per-read timeout,
     * and a sender trickling a byte every few seconds would hold the thread as long as it liked.
     */
    static final class FormBody extends HttpServletRequestWrapper {
        /** Token requests are a few hundred bytes; Tomcat's own limit for form bodies is 2 MB. */
        static final int MAX_FORM = 64 * 1024;

        private final byte[] body;
        private final Map<String, String[]> parameters;

        private FormBody(HttpServletRequest request, byte[] body, Map<String, String[]> parameters) {
            super(request);
            this.body = body;
            this.parameters = parameters;
        }

        static HttpServletRequest read(HttpServletRequest request) throws IOException {
            byte[] body = request.getInputStream().readNBytes(MAX_FORM + 1);
            if (body.length > MAX_FORM) {
                throw new IOException("form body over " + MAX_FORM + " bytes");
            }
            java.nio.charset.Charset charset = request.getCharacterEncoding() == null ? StandardCharsets.UTF_8
                    : java.nio.charset.Charset.forName(request.getCharacterEncoding());
            // the query string's parameters (Tomcat no longer reads the body: its stream was taken), then the form's
            Map<String, List<String>> merged = new LinkedHashMap<>();
            request.getParameterMap().forEach((k, v) -> merged.computeIfAbsent(k, x -> new ArrayList<>()).addAll(List.of(v)));
            for (String pair : new String(body, StandardCharsets.ISO_8859_1).split("&")) {
                if (!pair.isEmpty()) {
                    int eq = pair.indexOf('=');
                    String name = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), charset);
                    String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), charset);
                    merged.computeIfAbsent(name, x -> new ArrayList<>()).add(value);
                }
            }
            Map<String, String[]> parameters = new LinkedHashMap<>();
            merged.forEach((k, v) -> parameters.put(k, v.toArray(String[]::new)));
            return new FormBody(request, body, Collections.unmodifiableMap(parameters));
        }

        @Override
        public String getParameter(String name) {
            String[] values = parameters.get(name);
            return values == null || values.length == 0 ? null : values[0];
        }

        @Override
        public Map<String, String[]> getParameterMap() {
            return parameters;
        }

        @Override
        public Enumeration<String> getParameterNames() {
            return Collections.enumeration(parameters.keySet());
        }

        @Override
        public String[] getParameterValues(String name) {
            return parameters.get(name);
        }

        @Override
        public ServletInputStream getInputStream() {
            ByteArrayInputStream in = new ByteArrayInputStream(body);
            return new ServletInputStream() {
                @Override
                public int read() {
                    return in.read();
                }

                @Override
                public boolean isFinished() {
                    return in.available() == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException("the form body was read already");
                }
            };
        }
    }

    private static final class Deadlined extends ServletInputStream {
        private final ServletInputStream in;
        private final long deadline;

        Deadlined(ServletInputStream in, long deadline) {
            this.in = in;
            this.deadline = deadline;
        }

        private void check() throws TooSlow {
            if (System.nanoTime() - deadline > 0) {
                throw new TooSlow();
            }
        }

        @Override
        public int read() throws IOException {
            check();
            int b = in.read();
            check();
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            check();
            int n = in.read(b, off, len);
            if (n >= 0 && !in.isFinished()) {
                check();
            }
            return n;
        }

        @Override
        public boolean isFinished() {
            return in.isFinished();
        }

        @Override
        public boolean isReady() {
            return in.isReady();
        }

        @Override
        public void setReadListener(ReadListener listener) {
            in.setReadListener(listener);
        }
    }
}
