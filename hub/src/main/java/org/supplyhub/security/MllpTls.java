package org.supplyhub.security;

import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import org.apache.camel.CamelContext;
import org.apache.camel.support.jsse.KeyManagersParameters;
import org.apache.camel.support.jsse.SSLContextParameters;
import org.apache.camel.support.jsse.SSLContextServerParameters;
import org.apache.camel.support.jsse.SecureSocketProtocolsParameters;
import org.apache.camel.support.jsse.TrustManagersParameters;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.ssl.NoSuchSslBundleException;
import org.springframework.boot.ssl.SslBundle;
import org.springframework.boot.ssl.SslBundles;
import org.springframework.stereotype.Component;
import org.supplyhub.config.ConfigParticipant;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.journal.AuditLog;
import org.supplyhub.mapping.ConfigurationException;

import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.InetSocketAddress;
import java.security.cert.CertificateExpiredException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * MLLP over TLS. For each interface on the {@code hl7-mllp-tls-inbound} template, the listener's
 * key and trusted CAs come from its Spring SSL bundle; only TLS 1.2 and 1.3 are spoken; a client
 * certificate, when required, must chain to a trusted CA, be in date, and be bound to the
 * interface. The SSL context is registered for the route as {@code #mllpTls-<interfaceId>}; this
 * bean is also the route's first channel handler ({@code #mllpTlsAudit}), which audits every
 * refused handshake.
 */
@Component("mllpTlsAudit")
@ChannelHandler.Sharable
public class MllpTls extends ChannelInboundHandlerAdapter implements ConfigParticipant {

    private static final Logger log = LoggerFactory.getLogger(MllpTls.class);
    static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
    /**
     * Forward-secret AEAD suites only: TLS 1.3's, and TLS 1.2's ECDHE with GCM or ChaCha20-Poly1305
     * (no static-RSA key exchange, no CBC, no SHA-1 MACs).
     */
    static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256");

    private final AuditLog audit;
    private final SslBundles bundles;
    private final CamelContext camel;
    private volatile Map<Integer, String> interfaceByPort = Map.of();
    private volatile Map<String, InterfaceBoundTrustManager> trustByInterface = Map.of();
    /** Built by {@link #check}, published by {@link #publish} of the same set. */
    private volatile Bindings checked;

    public MllpTls(RunningConfig catalog, SslBundles bundles, CamelContext camel, AuditLog audit) {
        this.audit = audit;
        this.bundles = bundles;
        this.camel = camel;
        check(catalog.catalog());
        publish(catalog.catalog());
    }

    /**
     * Builds each TLS interface's SSL context (a missing bundle refuses the set) without publishing
     * it: a set that is refused, or fails to start, must leave the running set's bindings in force.
     */
    @Override
    public void check(InterfaceCatalog next) {
        checked = new Bindings(next, build(next));
    }

    /**
     * Publishes the set's SSL contexts ({@code #mllpTls-<id>}, resolved when a route is created) and
     * client-certificate bindings. Called before the set's routes are created, also when a failed
     * reload puts the previous set back.
     */
    @Override
    public void publish(InterfaceCatalog next) {
        Bindings checkedNow = checked;
        Map<String, Binding> built = checkedNow != null && checkedNow.catalog() == next ? checkedNow.byInterface() : build(next);
        checked = null;
        Map<Integer, String> byPort = new java.util.HashMap<>();
        for (InterfaceDefinition iface : next.all()) {
            if (iface.tls() != null) {
                byPort.put(iface.mllpPort(), iface.id());
            }
        }
        for (String gone : trustByInterface.keySet()) {
            if (!built.containsKey(gone)) {
                camel.getRegistry().unbind("mllpTls-" + gone);
            }
        }
        Map<String, InterfaceBoundTrustManager> trust = new java.util.HashMap<>();
        built.forEach((id, binding) -> {
            camel.getRegistry().bind("mllpTls-" + id, binding.context());
            trust.put(id, binding.trust());
        });
        trustByInterface = Map.copyOf(trust);
        interfaceByPort = Map.copyOf(byPort);
    }

    /** One TLS interface's SSL context and the trust manager inside it (which also names refused certificates). */
    private record Binding(SSLContextParameters context, InterfaceBoundTrustManager trust) {
    }

    /** The bindings built for a checked set, published only if that set becomes the running one. */
    private record Bindings(InterfaceCatalog catalog, Map<String, Binding> byInterface) {
    }

    private Map<String, Binding> build(InterfaceCatalog catalog) {
        Map<String, Binding> built = new java.util.HashMap<>();
        for (InterfaceDefinition iface : catalog.all()) {
            if (iface.tls() != null) {
                built.put(iface.id(), sslContext(iface, bundles));
            }
        }
        return Map.copyOf(built);
    }

    private Binding sslContext(InterfaceDefinition iface, SslBundles bundles) {
        SslBundle bundle;
        try {
            bundle = bundles.getBundle(iface.tls().bundle());
        } catch (NoSuchSslBundleException e) {
            throw new ConfigurationException(iface.file() + ": interface '" + iface.id() + "' names SSL bundle '"
                    + iface.tls().bundle() + "', which spring.ssl.bundle does not define");
        }
        String[] configured = bundle.getOptions().getEnabledProtocols();
        if (configured != null && !PROTOCOLS.containsAll(List.of(configured))) {
            throw new ConfigurationException("SSL bundle '" + iface.tls().bundle() + "' enables " + List.of(configured)
                    + "; MLLP listeners speak only " + PROTOCOLS);
        }
        KeyManager[] keys = bundle.getManagers().getKeyManagerFactory().getKeyManagers();
        X509ExtendedTrustManager ca = null;
        for (TrustManager tm : bundle.getManagers().getTrustManagerFactory().getTrustManagers()) {
            if (tm instanceof X509ExtendedTrustManager x509) {
                ca = x509;
            }
        }
        if (ca == null) {
            throw new ConfigurationException("SSL bundle '" + iface.tls().bundle() + "' has no X.509 trust store");
        }
        InterfaceBoundTrustManager trust = new InterfaceBoundTrustManager(iface.id(), ca, iface.tls().clients());

        SSLContextParameters params = new SSLContextParameters();
        params.setKeyManagers(new KeyManagersParameters() {
            @Override
            public KeyManager[] createKeyManagers() {
                return keys;
            }
        });
        TrustManagersParameters trustParams = new TrustManagersParameters();
        trustParams.setTrustManager(trust);
        params.setTrustManagers(trustParams);
        SecureSocketProtocolsParameters protocols = new SecureSocketProtocolsParameters();
        protocols.setSecureSocketProtocol(PROTOCOLS);
        params.setSecureSocketProtocols(protocols);
        org.apache.camel.support.jsse.CipherSuitesParameters suites = new org.apache.camel.support.jsse.CipherSuitesParameters();
        suites.setCipherSuite(CIPHER_SUITES);
        params.setCipherSuites(suites);
        SSLContextServerParameters server = new SSLContextServerParameters();
        server.setClientAuthentication(iface.tls().needClientAuth() ? "REQUIRE" : "NONE");
        params.setServerParameters(server);
        log.info("Interface {}: MLLP over TLS ({}), client certificate {}", iface.id(), PROTOCOLS,
                iface.tls().needClientAuth() ? "required, " + iface.tls().clients().size() + " bound" : "not required");
        return new Binding(params, trust);
    }

    /** Camel adds this handler after the SslHandler; the ClientHello reader goes just before it. */
    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        io.netty.channel.ChannelHandlerContext ssl = ctx.pipeline().context(SslHandler.class);
        if (ssl != null && ctx.pipeline().get(ClientHelloVersion.class) == null) {
            ctx.pipeline().addBefore(ssl.name(), "clientHelloVersion", new ClientHelloVersion());
        }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
        if (event instanceof SslHandshakeCompletionEvent done && !done.isSuccess()) {
            refused(ctx, done.cause());
        }
        super.userEventTriggered(ctx, event);
    }

    private void refused(ChannelHandlerContext ctx, Throwable cause) {
        int port = ((InetSocketAddress) ctx.channel().localAddress()).getPort();
        String interfaceId = interfaceByPort.get(port);
        String peer = ctx.channel().remoteAddress() instanceof InetSocketAddress a ? a.getAddress().getHostAddress() : "?";
        SslHandler ssl = ctx.pipeline().get(SslHandler.class);
        InterfaceBoundTrustManager trust = interfaceId == null ? null : trustByInterface.get(interfaceId);
        InterfaceBoundTrustManager.Presented presented = trust == null || ssl == null ? null : trust.presentedBy(ssl.engine());
        String reason = reason(cause, ctx.channel().attr(ClientHelloVersion.OFFERED).get());
        // a certificate that did not verify is no identity: audited by its fingerprint, its names as claims
        String actor = presented != null ? presented.actor() : AuditLog.anonymous(peer);
        String detail = reason + (presented != null ? presented.claim() : "") + " (from " + peer + ")";
        log.warn("Interface {}: TLS connection from {} refused: {}", interfaceId, peer, reason);
        // off the I/O thread: a refusal must not stall the listener's other connections
        CompletableFuture.runAsync(() -> audit.record(actor, "TLS_REFUSED", interfaceId, "mllp port " + port, "REFUSED",
                detail));
    }

    /**
     * Handshake errors end here. They must not travel on to Camel's handler, which logs them with
     * their message — and Netty's message for plain text on a TLS port is a hex dump of the HL7.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (isTls(cause)) {
            ctx.close();
            return;
        }
        ctx.fireExceptionCaught(cause);
    }

    private static boolean isTls(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof NotSslRecordException || t instanceof javax.net.ssl.SSLException) {
                return true;
            }
        }
        return false;
    }

    static String reason(Throwable cause, String offeredProtocol) {
        if (offeredProtocol != null && !PROTOCOLS.contains(offeredProtocol)) {
            return "protocol " + offeredProtocol + " refused (only " + String.join(", ", PROTOCOLS) + ")";
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof NotSslRecordException) {
                return "plain text on a TLS port";
            }
            if (t instanceof CertificateExpiredException) {
                return "client certificate expired";
            }
        }
        for (Throwable t = cause; t != null; t = t.getCause()) {
            String message = t.getMessage() == null ? "" : t.getMessage();
            if (message.contains("is not bound to interface")) {
                return message;
            }
            if (message.contains("PKIX path") || message.contains("unable to find valid certification path")) {
                return "client certificate not issued by a trusted CA";
            }
            if (message.contains("Empty client certificate chain") || message.contains("certificate_required")) {
                return "no client certificate";
            }
        }
        return "handshake failed: " + cause.getClass().getSimpleName();
    }
}
