package org.supplyhub.ingest;

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
        Charset defaultCharset) { }
