package org.supplyhub.ingest;

import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.config.RouteTemplate;
import org.supplyhub.config.RunningConfig;

import org.apache.camel.Exchange;
import org.apache.camel.builder.RouteBuilder;
import org.apache.camel.model.RouteTemplateDefinition;
import org.apache.camel.component.netty.NettyConstants;
import org.springframework.stereotype.Component;
import org.supplyhub.journal.AuditLog;

import javax.security.auth.x500.X500Principal;

/**
 * The route templates interfaces are made of. {@code routes/*.yaml} instantiates them with
 * {@code templatedRoute}; the interface's mapping and destinations come from the same parameters,
 * read and checked by {@link InterfaceCatalog} at start-up and on each reload. A message takes its
 * interface's definition from the running set once, when it arrives, and keeps it to the end.
 */
@Component
public class IngestRoutes extends RouteBuilder {

    /** Exchange property naming the interface a message came in on. */
    public static final String INTERFACE = "SupplyHubInterface";

    private final RunningConfig interfaces;
    private final IntakeService intake;

    public IngestRoutes(RunningConfig interfaces, IntakeService intake) {
        this.interfaces = interfaces;
        this.intake = intake;
    }

    @Override
    public void configure() {
        // MLLP over TCP (Netty): one listener per interface port, a reply per frame, frames bounded.
        // allowedSources: the CIDR blocks a sender may connect from (SourceAddressFilter; empty: any)
        mllpTemplate(RouteTemplate.MLLP, "", "#mllpSources,#mllpConnections,#mllpIdleTimeout,#mllpFrameDecoder");

        // MLLP over TLS: the same listener behind an SSL handler whose context (key, CAs, the
        // certificates bound to the interface) MllpTls registers; refused handshakes are audited.
        mllpTemplate(RouteTemplate.MLLP_TLS,
                "&ssl=true&sslContextParameters=#mllpTls-{{interfaceId}}&needClientAuth={{needClientAuth}}"
                        + "&sslClientCertHeaders=true",
                "#mllpTlsAudit,#mllpConnections,#mllpIdleTimeout,#mllpFrameDecoder");

        // For senders that are not on MLLP: other Camel routes (file pickup, queues) and the
        // HTTP endpoint hand messages to direct:hl7-<interfaceId>.
        RouteTemplate.HTTP.declare(this)
                .from("direct:hl7-{{interfaceId}}")
                .setProperty(INTERFACE, constant("{{interfaceId}}"))
                .process(this::direct);
    }

    /** An MLLP listener template; {@code options} and {@code decoders} are what TLS adds to plain TCP. */
    private RouteTemplateDefinition mllpTemplate(RouteTemplate declared, String options, String decoders) {
        RouteTemplateDefinition template = declared.declare(this);
        template.from("netty:tcp://{{host}}:{{port}}?sync=true&textline=false&allowDefaultCodec=false" + options
                        + "&decoders=" + decoders + "&encoders=#mllpFrameEncoder"
                        + "&reuseAddress=true&disconnectOnNoReply=true&backlog=128")
                .setProperty(INTERFACE, constant("{{interfaceId}}"))
                .process(this::mllp);
        return template;
    }

    private void mllp(Exchange exchange) {
        InterfaceDefinition iface = interfaces.get(exchange.getProperty(INTERFACE, String.class));
        Object body = exchange.getMessage().getBody();
        String peer = String.valueOf(exchange.getMessage().getHeader(NettyConstants.NETTY_REMOTE_ADDRESS));
        // the certificate subject for TLS senders; the peer address is all a plain MLLP sender proves
        String subject = exchange.getMessage().getHeader(NettyConstants.NETTY_SSL_CLIENT_CERT_SUBJECT_NAME, String.class);
        String caller = subject != null ? "cert:" + new X500Principal(subject).getName()
                : AuditLog.anonymous(peer.startsWith("/") ? peer.substring(1) : peer);
        try {
            IntakeResult result = body instanceof OversizedFrame frame ? intake.oversized(iface, frame, caller)
                    : body instanceof RefusedFrame refused ? intake.refused(iface, refused, caller)
                    : intake.receive(iface, exchange.getMessage().getBody(byte[].class), null, caller);
            exchange.getMessage().setBody(result.ackBytes());
        } catch (RuntimeException e) {
            // no ACK could be built: close the connection (disconnectOnNoReply) so the sender resends
            log.error("Interface {}: no answer could be built; closing the connection from {}", iface.id(), peer, e);
            exchange.getMessage().setBody(null);
        } catch (VirtualMachineError e) {
            // OutOfMemoryError, StackOverflowError: what filled the heap or stack was this message's and
            // is garbage now; close this connection and keep the listener (and its thread) serving others
            log.error("Interface {}: {} while taking a message from {}; closing that connection", iface.id(),
                    e.getClass().getSimpleName(), peer);
            exchange.getMessage().setBody(null);
        }
    }

    private void direct(Exchange exchange) {
        InterfaceDefinition iface = interfaces.get(exchange.getProperty(INTERFACE, String.class));
        String caller = exchange.getMessage().getHeader("SupplyHubCaller", "route:" + exchange.getFromRouteId(), String.class);
        IntakeResult result = intake.receive(iface, exchange.getMessage().getBody(byte[].class), null, caller);
        exchange.getMessage().setBody(result.ack());
    }
}
