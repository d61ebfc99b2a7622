package org.supplyhub.ingest;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.Await;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestCertificates;
import org.supplyhub.support.TestCertificates.Issued;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * MLLP over TLS with certificates made at test time: a trusted client certificate bound to the
 * interface gets its ACK and is journaled as the caller; an untrusted, expired or other interface's
 * certificate, no certificate at all, or plain text on the TLS port → connection refused, audited.
 */
@SpringBootTest
@DirtiesContext
class MllpTlsTest {

    static final String ORMGR = "CN=ormgr.mercy.org,O=Mercy General";
    static final String CATHLAB = "CN=cathlab.lakeside.org,O=Lakeside";
    static final int OR_PORT = TestInterfaces.freePort();
    static final int CATH_PORT = TestInterfaces.freePort();

    static Issued ca;
    static Issued ormgr;
    static Issued cathlab;
    static Issued expired;
    static Issued untrusted;

    @Autowired
    JdbcTemplate jdbc;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        Path dir = Files.createTempDirectory("mllp-tls");
        ca = TestCertificates.ca("CN=Hospital Interface CA,O=Test");
        Issued server = TestCertificates.valid(ca, "CN=localhost,O=Supply Hub", true);
        ormgr = TestCertificates.valid(ca, ORMGR, false);
        cathlab = TestCertificates.valid(ca, CATHLAB, false);
        expired = TestCertificates.expired(ca, ORMGR);
        Issued rogueCa = TestCertificates.ca("CN=Rogue CA,O=Elsewhere");
        untrusted = TestCertificates.valid(rogueCa, ORMGR, false); // the right name from the wrong CA

        String bundle = "spring.ssl.bundle.jks.mllp-test.";
        Path keyStore = TestCertificates.keyStore(server, dir.resolve("server.p12"));
        Path trustStore = TestCertificates.trustStore(dir.resolve("trust.p12"), ca.certificate());
        registry.add(bundle + "keystore.location", () -> "file:" + keyStore);
        registry.add(bundle + "keystore.password", () -> "changeit");
        registry.add(bundle + "keystore.type", () -> "PKCS12");
        registry.add(bundle + "truststore.location", () -> "file:" + trustStore);
        registry.add(bundle + "truststore.password", () -> "changeit");
        registry.add(bundle + "truststore.type", () -> "PKCS12");

        Path routes = Files.createDirectory(dir.resolve("routes"));
        Files.writeString(routes.resolve("tls.yaml"), """
                - templatedRoute:
                    routeTemplateRef: hl7-mllp-tls-inbound
                    parameters:
                      - { name: interfaceId, value: tls-or }
                      - { name: port, value: "%d" }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: tls, value: mllp-test }
                      - { name: clientCertificates, value: "%s" }
                - templatedRoute:
                    routeTemplateRef: hl7-mllp-tls-inbound
                    parameters:
                      - { name: interfaceId, value: tls-cath }
                      - { name: port, value: "%d" }
                      - { name: mapping, value: lakeside-cath.yaml }
                      - { name: tls, value: mllp-test }
                      - { name: clientCertificates, value: "%s" }
                """.formatted(OR_PORT, ORMGR, CATH_PORT, CATHLAB));
        registry.add("hub.routes-dir", routes::toString);
        registry.add("hub.mappings-dir", () -> TestInterfaces.projectRoot().resolve("mappings").toString());
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
    }

    @BeforeEach
    void clearAudit() {
        jdbc.update("delete from audit_event");
    }

    @Test
    void aBoundTrustedCertificateIsAnsweredAndJournaledAsTheCaller() throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "TLS-OK-1");
        String ack = send(ormgr, OR_PORT, er7);
        assertThat(ack).contains("MSA|AA|TLS-OK-1");
        String caller = jdbc.queryForObject("select caller from message where control_id = 'TLS-OK-1'", String.class);
        assertThat(caller).isEqualTo("cert:" + ORMGR);
        assertThat(jdbc.queryForObject("select actor from audit_event where action = 'INGEST'", String.class))
                .isEqualTo("cert:" + ORMGR);

        String cath = Samples.withControlId(Samples.read(Samples.LAKESIDE), "TLS-OK-2");
        assertThat(send(cathlab, CATH_PORT, cath)).contains("MSA|AA|TLS-OK-2");
    }

    @Test
    void untrustedExpiredUnboundAndMissingCertificatesAreRefusedAndAudited() throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), "TLS-NO");
        assertThat(send(untrusted, OR_PORT, er7)).startsWith("refused");
        assertThat(send(expired, OR_PORT, er7)).startsWith("refused");
        assertThat(send(cathlab, OR_PORT, er7)).startsWith("refused"); // bound to tls-cath, not tls-or
        assertThat(send(null, OR_PORT, er7)).startsWith("refused");
        assertThat(jdbc.queryForObject("select count(*) from message where control_id = 'TLS-NO'", Integer.class)).isZero();

        Await.until(() -> refusals().size() == 4);
        List<String> details = refusals().stream().map(r -> r.get("detail") + " | " + r.get("actor")).toList();
        assertThat(details).anySatisfy(d -> assertThat(d).contains("not issued by a trusted CA"));
        assertThat(details).anySatisfy(d -> assertThat(d).contains("expired"));
        assertThat(details).anySatisfy(d -> assertThat(d).contains("is not bound to interface tls-or").contains("cert:" + CATHLAB));
        assertThat(details).anySatisfy(d -> assertThat(d).contains("no client certificate"));
        assertThat(refusals()).allSatisfy(r -> assertThat(r.get("interface_id")).isEqualTo("tls-or"));
        // the rogue CA's certificate claims ORMGR's name: audited as unverified, by fingerprint, never as ORMGR
        assertThat(details).noneSatisfy(d -> assertThat(d).endsWith("| cert:" + ORMGR));
        assertThat(details).anySatisfy(d -> assertThat(d).contains("not issued by a trusted CA")
                .contains("claims subject " + ORMGR).contains("issuer CN=Rogue CA").contains("| unverified-cert:sha256="));
    }

    /** TLS 1.2 only with forward-secret AEAD suites; an old protocol is refused and audited by name. */
    @Test
    void weakSuitesAndOldProtocolsAreRefusedAndNamed() throws Exception {
        SSLContext context = TestCertificates.clientContext(ormgr, ca.certificate());
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", OR_PORT)) {
            socket.setEnabledProtocols(new String[] {"TLSv1.2"});
            socket.setEnabledCipherSuites(new String[] {"TLS_RSA_WITH_AES_128_CBC_SHA", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"});
            assertThat(org.assertj.core.api.Assertions.catchThrowable(socket::startHandshake)).isInstanceOf(IOException.class);
        }
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", OR_PORT)) {
            socket.setEnabledProtocols(new String[] {"TLSv1.2"});
            socket.startHandshake();
            assertThat(socket.getSession().getCipherSuite()).startsWith("TLS_ECDHE_").containsAnyOf("_GCM_", "_CHACHA20_POLY1305_");
        }
        // a TLS 1.1 ClientHello (the JDK client will not send one any more), byte by byte
        byte[] hello = java.util.HexFormat.of().parseHex("160301002f" + "0100002b" + "0302" + "00".repeat(32)
                + "00" + "0004002f0035" + "0100");
        try (java.net.Socket raw = new java.net.Socket("127.0.0.1", OR_PORT)) {
            raw.setSoTimeout(5000);
            raw.getOutputStream().write(hello);
            raw.getOutputStream().flush();
            try {
                raw.getInputStream().readAllBytes(); // an alert, then the hub closes
            } catch (IOException closed) {
                // reset: refused all the same
            }
        }
        Await.until(() -> refusals().stream().anyMatch(r -> r.get("detail").toString().contains("TLSv1.1")));
        assertThat(refusals()).anySatisfy(r -> assertThat(r.get("detail").toString())
                .contains("protocol TLSv1.1 refused (only TLSv1.3, TLSv1.2)"));
    }

    @Test
    void plainTextOnTheTlsPortIsRefusedAndAudited() throws Exception {
        try (Mllp plain = new Mllp(OR_PORT)) {
            String reply;
            try {
                reply = plain.send(Samples.withControlId(Samples.read(Samples.MERCY), "TLS-PLAIN"), StandardCharsets.UTF_8);
            } catch (IOException e) {
                reply = null;
            }
            assertThat(reply).isNull();
        }
        Await.until(() -> refusals().size() == 1);
        assertThat(refusals().get(0).get("detail").toString()).contains("plain text on a TLS port");
        assertThat(jdbc.queryForObject("select count(*) from message where control_id = 'TLS-PLAIN'", Integer.class)).isZero();
    }

    private List<Map<String, Object>> refusals() {
        return jdbc.queryForList("select actor, interface_id, detail from audit_event where action = 'TLS_REFUSED'");
    }

    /** The ACK, or "refused: …" when the hub would not talk. */
    private static String send(Issued client, int port, String er7) throws Exception {
        SSLContext context = TestCertificates.clientContext(client, ca.certificate());
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", port)) {
            socket.setEnabledProtocols(new String[] {"TLSv1.3", "TLSv1.2"});
            socket.startHandshake();
            try (Mllp mllp = new Mllp(socket)) {
                String ack = mllp.send(er7, StandardCharsets.UTF_8);
                return ack == null ? "refused: connection closed" : ack;
            }
        } catch (IOException e) {
            return "refused: " + e;
        }
    }
}
