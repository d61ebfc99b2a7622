package org.supplyhub.config;

import org.supplyhub.mapping.UsageMapper;

import java.nio.charset.Charset;
import java.util.List;

/**
 * One inbound interface, as declared in {@code routes/<file>.yaml}: how senders reach it, how its
 * messages are mapped, and which destinations get an outbox row for each accepted message.
 */
public record InterfaceDefinition(
        String id,
        String file,
        String template,
        Integer mllpPort,
        String description,
        UsageMapper mapper,
        List<String> destinations,
        Charset defaultCharset,
        Tls tls) {

    /**
     * MLLP over TLS: the SSL bundle with the listener's key and trusted CAs, whether a client
     * certificate is required, and the certificate subjects bound to this interface.
     */
    public record Tls(String bundle, boolean needClientAuth, List<javax.security.auth.x500.X500Principal> clients) { }
}
