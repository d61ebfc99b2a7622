package org.supplyhub.security;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.security.auth.x500.X500Principal;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Trusts a client certificate only if the CAs trust it (chain, validity: the JDK's PKIX checks) and
 * its subject is one of those bound to this interface. A failure fails the TLS handshake, so the
 * connection is refused before a byte of HL7 is read.
 */
final class InterfaceBoundTrustManager extends X509ExtendedTrustManager {

    private final String interfaceId;
    private final X509ExtendedTrustManager ca;
    private final List<X500Principal> bound;
    /** The subject each handshake presented, so a refusal can be audited with it. */
    private final Map<SSLEngine, String> presented = Collections.synchronizedMap(new WeakHashMap<>());

    InterfaceBoundTrustManager(String interfaceId, X509ExtendedTrustManager ca, List<X500Principal> bound) {
        this.interfaceId = interfaceId;
        this.ca = ca;
        this.bound = bound;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        if (chain != null && chain.length > 0) {
            presented.put(engine, chain[0].getSubjectX500Principal().getName());
        }
        ca.checkClientTrusted(chain, authType, engine);
        checkBound(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        ca.checkClientTrusted(chain, authType, socket);
        checkBound(chain);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        ca.checkClientTrusted(chain, authType);
        checkBound(chain);
    }

    private void checkBound(X509Certificate[] chain) throws CertificateException {
        X500Principal subject = chain[0].getSubjectX500Principal();
        if (!bound.isEmpty() && !bound.contains(subject)) {
            throw new CertificateException("certificate " + subject.getName() + " is not bound to interface " + interfaceId);
        }
    }

    /** The subject the peer on this engine presented, if any (forgotten once read). */
    String presentedBy(SSLEngine engine) {
        return presented.remove(engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        ca.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        ca.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        ca.checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return ca.getAcceptedIssuers();
    }
}
