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
    /** What each handshake presented, so a refusal can be audited with it. */
    private final Map<SSLEngine, Presented> presented = Collections.synchronizedMap(new WeakHashMap<>());

    /**
     * The certificate a peer presented. {@code verified} once it chained to a trusted CA: only then is
     * its subject an identity; before that it is a claim anyone can make.
     */
    record Presented(String subject, String issuer, String sha256, boolean verified) {
        String actor() {
            return verified ? "cert:" + subject : "unverified-cert:sha256=" + sha256;
        }

        String claim() {
            return verified ? "" : "; claims subject " + subject + ", issuer " + issuer;
        }
    }

    InterfaceBoundTrustManager(String interfaceId, X509ExtendedTrustManager ca, List<X500Principal> bound) {
        this.interfaceId = interfaceId;
        this.ca = ca;
        this.bound = bound;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        Presented claimed = chain == null || chain.length == 0 ? null : new Presented(
                chain[0].getSubjectX500Principal().getName(), chain[0].getIssuerX500Principal().getName(), sha256(chain[0]), false);
        if (claimed != null) {
            presented.put(engine, claimed);
        }
        ca.checkClientTrusted(chain, authType, engine);
        if (claimed != null) {
            presented.put(engine, new Presented(claimed.subject(), claimed.issuer(), claimed.sha256(), true));
        }
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

    /** What the peer on this engine presented, if anything (forgotten once read). */
    Presented presentedBy(SSLEngine engine) {
        return presented.remove(engine);
    }

    private static String sha256(X509Certificate certificate) {
        try {
            return java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(certificate.getEncoded()));
        } catch (java.security.GeneralSecurityException e) {
            return "unknown";
        }
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
