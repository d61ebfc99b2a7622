package org.supplyhub.support;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/** A throw-away PKI made at test time: CAs, server and client certificates, key stores. */
public final class TestCertificates {

    public static final char[] PASSWORD = "changeit".toCharArray();
    private static final AtomicLong SERIAL = new AtomicLong(System.currentTimeMillis());

    /** A key pair and its certificate, with the chain up to its CA. */
    public record Issued(KeyPair keys, X509Certificate certificate, X509Certificate... chain) { }

    private TestCertificates() { }

    public static Issued ca(String subject) throws Exception {
        KeyPair keys = keyPair();
        X509Certificate cert = sign(subject, keys, subject, keys, Instant.now().minus(Duration.ofDays(1)),
                Instant.now().plus(Duration.ofDays(30)), true, false);
        return new Issued(keys, cert);
    }

    public static Issued issue(Issued ca, String subject, Instant notBefore, Instant notAfter, boolean server)
            throws Exception {
        KeyPair keys = keyPair();
        X509Certificate cert = sign(subject, keys, ca.certificate().getSubjectX500Principal().getName(), ca.keys(),
                notBefore, notAfter, false, server);
        return new Issued(keys, cert, cert, ca.certificate());
    }

    public static Issued valid(Issued ca, String subject, boolean server) throws Exception {
        return issue(ca, subject, Instant.now().minus(Duration.ofDays(1)), Instant.now().plus(Duration.ofDays(30)), server);
    }

    public static Issued expired(Issued ca, String subject) throws Exception {
        return issue(ca, subject, Instant.now().minus(Duration.ofDays(30)), Instant.now().minus(Duration.ofDays(1)), false);
    }

    /** A PKCS#12 key store holding the key and its chain. */
    public static Path keyStore(Issued issued, Path file) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("key", issued.keys().getPrivate(), PASSWORD, issued.chain());
        try (OutputStream out = Files.newOutputStream(file)) {
            ks.store(out, PASSWORD);
        }
        return file;
    }

    /** A PKCS#12 trust store holding the CA certificates. */
    public static Path trustStore(Path file, X509Certificate... cas) throws Exception {
        try (OutputStream out = Files.newOutputStream(file)) {
            trust(cas).store(out, PASSWORD);
        }
        return file;
    }

    /** A client's SSL context: its own certificate (or none) and the CA it trusts the server by. */
    public static SSLContext clientContext(Issued client, X509Certificate serverCa) throws Exception {
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        if (client != null) {
            ks.setKeyEntry("key", client.keys().getPrivate(), PASSWORD, client.chain());
        }
        kmf.init(ks, PASSWORD);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust(serverCa));
        SSLContext context = SSLContext.getInstance("TLS");
        javax.net.ssl.X509ExtendedKeyManager keys = (javax.net.ssl.X509ExtendedKeyManager) kmf.getKeyManagers()[0];
        context.init(new javax.net.ssl.KeyManager[] {client == null ? keys : new AlwaysPresent(keys)},
                tmf.getTrustManagers(), null);
        return context;
    }

    /**
     * Presents the client's certificate even when the server's list of accepted CAs does not name
     * its issuer (the JDK would otherwise send none), so the server's trust check is what refuses it.
     */
    private static final class AlwaysPresent extends javax.net.ssl.X509ExtendedKeyManager {
        private final javax.net.ssl.X509ExtendedKeyManager keys;

        AlwaysPresent(javax.net.ssl.X509ExtendedKeyManager keys) {
            this.keys = keys;
        }

        @Override
        public String chooseClientAlias(String[] keyType, java.security.Principal[] issuers, java.net.Socket socket) {
            return "key";
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, java.security.Principal[] issuers, javax.net.ssl.SSLEngine engine) {
            return "key";
        }

        @Override
        public String[] getClientAliases(String keyType, java.security.Principal[] issuers) {
            return new String[] {"key"};
        }

        @Override
        public String[] getServerAliases(String keyType, java.security.Principal[] issuers) {
            return keys.getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, java.security.Principal[] issuers, java.net.Socket socket) {
            return keys.chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return keys.getCertificateChain(alias);
        }

        @Override
        public java.security.PrivateKey getPrivateKey(String alias) {
            return keys.getPrivateKey(alias);
        }
    }

    private static KeyStore trust(X509Certificate... cas) throws Exception {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        for (int i = 0; i < cas.length; i++) {
            ks.setCertificateEntry("ca" + i, cas[i]);
        }
        return ks;
    }

    private static X500Name name(String rfc2253) {
        return X500Name.getInstance(new javax.security.auth.x500.X500Principal(rfc2253).getEncoded());
    }

    private static KeyPair keyPair() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(256);
        return generator.generateKeyPair();
    }

    private static X509Certificate sign(String subject, KeyPair subjectKeys, String issuer, KeyPair issuerKeys,
                                        Instant notBefore, Instant notAfter, boolean ca, boolean server) throws Exception {
        // names in the JDK's RFC 2253 order, so subjects compare as X500Principal does
        JcaX509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(name(issuer),
                BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(notBefore), Date.from(notAfter),
                name(subject), subjectKeys.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        if (server) {
            builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
                    new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
        }
        return new JcaX509CertificateConverter().getCertificate(
                builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKeys.getPrivate())));
    }
}
