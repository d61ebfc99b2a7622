package org.supplyhub.security;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.web.ServerProperties;
import org.springframework.boot.web.server.Ssl;
import org.springframework.context.annotation.Configuration;
import org.supplyhub.mapping.ConfigurationException;

/**
 * The HTTP API carries bearer tokens and raw messages, so in production ({@code hub.security.require-tls},
 * on in the {@code prod} profile) the hub refuses to start unless it serves HTTPS itself
 * ({@code server.ssl.bundle}, a Spring SSL bundle as the MLLP listeners use) or is told it sits
 * behind a TLS-terminating proxy ({@code hub.security.behind-tls-proxy: true}).
 */
@Configuration(proxyBeanMethods = false)
public class HttpTls {

    private static final Logger log = LoggerFactory.getLogger(HttpTls.class);

    public HttpTls(SecurityProperties security, ServerProperties server) {
        boolean tls = Ssl.isEnabled(server.getSsl());
        if (tls) {
            log.info("HTTP API over TLS{}", server.getSsl().getBundle() != null ? " (SSL bundle " + server.getSsl().getBundle() + ")" : "");
        } else if (security.behindTlsProxy()) {
            log.info("HTTP API in clear on this port: hub.security.behind-tls-proxy says a proxy terminates TLS in front");
        } else if (security.requireTls()) {
            throw new ConfigurationException("hub.security.require-tls (the prod profile): serve HTTPS with"
                    + " server.ssl.bundle=<a spring.ssl.bundle>, or set hub.security.behind-tls-proxy=true if a"
                    + " TLS-terminating proxy is the only way in");
        } else {
            log.warn("HTTP API in clear: bearer tokens and messages cross the network readable;"
                    + " set server.ssl.bundle for production");
        }
    }
}
