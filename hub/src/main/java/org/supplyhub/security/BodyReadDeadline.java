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

import java.io.IOException;
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
                chain.doFilter(new HttpServletRequestWrapper(request) {
                    private ServletInputStream in;

                    @Override
                    public ServletInputStream getInputStream() throws IOException {
                        if (in == null) {
                            in = new Deadlined(super.getInputStream(), deadline);
                        }
                        return in;
                    }
                }, response);
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

        private static boolean causedBy(Throwable e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof TooSlow) {
                    return true;
                }
            }
            return false;
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
