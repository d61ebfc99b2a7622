package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.Connection;
import ca.uhn.hl7v2.llp.LLPException;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import jakarta.annotation.PreDestroy;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Sends billing DFTs over MLLP with HAPI's client and waits for the ACK: AA → delivered; AE →
 * retry; AR → dead (the receiver rejects the message itself; {@code onReject: retry} makes it a
 * retry); no ACK in time → retry with the same
 * control id, so the receiver can tell a resend from a new charge.
 */
@Component
public class MllpConnector implements Connector {

    private final HapiContext hapi;
    /** PipeParser is not thread-safe, and sends run in parallel. */
    private final ThreadLocal<PipeParser> parsers;

    public MllpConnector() {
        hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
        parsers = ThreadLocal.withInitial(() -> new PipeParser(hapi));
    }

    @Override
    public String send(DestinationDefinition d, Payload payload) throws DeliveryException {
        String host = d.url().getHost();
        Connection connection = null;
        try {
            Message message = payload.hl7() != null ? payload.hl7()
                    : parsers.get().parse(new String(payload.body(), StandardCharsets.UTF_8));
            connection = hapi.newClient(host, d.url().getPort(), false);
            connection.getInitiator().setTimeout(d.timeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            Message ack = connection.getInitiator().sendAndReceive(message);
            String code = new Terser(ack).get("/MSA-1");
            if ("AA".equals(code) || "CA".equals(code)) {
                return code;
            }
            boolean rejected = ("AR".equals(code) || "CR".equals(code)) && !d.retryRejected();
            throw new DeliveryException(host + " answered " + code, code, rejected, null);
        } catch (HL7Exception | LLPException | IOException e) {
            if (connection != null) {
                hapi.getConnectionHub().discard(connection); // a broken or timed-out connection is not reused
            }
            throw new DeliveryException("no ACK from " + host + ": " + e.getClass().getSimpleName(), "NO-ACK", false, e);
        }
    }

    @PreDestroy
    void close() throws IOException {
        hapi.close();
    }
}
