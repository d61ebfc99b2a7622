package org.supplyhub.ingest;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.config.ConfigParticipant;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.ingest.ConfigReloader.Outcome;
import org.supplyhub.ingest.ConfigReloader.Result;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestCertificates;
import org.supplyhub.support.TestCertificates.Issued;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Live reload of an MLLP-TLS interface: a set that is refused, or that fails to start, leaves the
 * running listener on the running set's SSL context and client-certificate bindings; a previous
 * route that cannot be put back is reported, not hidden.
 */
@SpringBootTest
@DirtiesContext(methodMode = DirtiesContext.MethodMode.AFTER_METHOD)
class MllpTlsReloadTest {

    static final String ORMGR = "CN=ormgr.mercy.org,O=Mercy General";
    static final String OTHER = "CN=other.mercy.org,O=Mercy General";
    static final int OR_PORT = TestInterfaces.freePort();
    static final Path DIR = tempDir();
    static final Path ROUTES = DIR.resolve("routes");
    static final Path MAPPINGS = AbstractLiveReloadTest.copyOfMappings();
    static final String MERCY_PROFILE = AbstractLiveReloadTest.readString(MAPPINGS.resolve("mercy-or.yaml"));

    static Issued ca;
    static Issued ormgr;
    static Issued other;
    /** The port a participant takes, once the reload that moves tls-or away from it is activated (see below). */
    static volatile ServerSocket grabbed;
    static volatile int grabWhenMovedTo;

    @Autowired
    ConfigReloader reloader;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws Exception {
        ca = TestCertificates.ca("CN=Hospital Interface CA,O=Test");
        Issued server = TestCertificates.valid(ca, "CN=localhost,O=Supply Hub", true);
        ormgr = TestCertificates.valid(ca, ORMGR, false);
        other = TestCertificates.valid(ca, OTHER, false);
        String bundle = "spring.ssl.bundle.jks.mllp-test.";
        Path keyStore = TestCertificates.keyStore(server, DIR.resolve("server.p12"));
        Path trustStore = TestCertificates.trustStore(DIR.resolve("trust.p12"), ca.certificate());
        registry.add(bundle + "keystore.location", () -> "file:" + keyStore);
        registry.add(bundle + "keystore.password", () -> "changeit");
        registry.add(bundle + "keystore.type", () -> "PKCS12");
        registry.add(bundle + "truststore.location", () -> "file:" + trustStore);
        registry.add(bundle + "truststore.password", () -> "changeit");
        registry.add(bundle + "truststore.type", () -> "PKCS12");
        Files.createDirectories(ROUTES);
        writeShippedSet();
        registry.add("hub.routes-dir", ROUTES::toString);
        registry.add("hub.mappings-dir", MAPPINGS::toString);
        TestDatabases.h2().forEach((k, v) -> registry.add(k, () -> v));
    }

    /** Each test starts its own hub (the context is dirtied) on the set written here. */
    @AfterEach
    void writeShippedSetAgain() throws Exception {
        grabWhenMovedTo = 0;
        if (grabbed != null) {
            grabbed.close();
            grabbed = null;
        }
        writeShippedSet();
    }

    @Test
    void aRefusedOrFailedReloadLeavesTheRunningBindingsInForce() throws Exception {
        assertThat(send(ormgr, OR_PORT, "TLSR-1")).contains("MSA|AA|TLSR-1");
        assertThat(send(other, OR_PORT, "TLSR-2")).startsWith("refused");

        // the client certificate changes, but a misspelt key elsewhere in the set refuses it
        Files.writeString(ROUTES.resolve("tls.yaml"), tlsInterface(OR_PORT, OTHER));
        Files.writeString(MAPPINGS.resolve("mercy-or.yaml"), MERCY_PROFILE.replace("  quantity: FT1-10", "  quantty: FT1-10"));
        assertThat(reloader.reload("test").outcome()).isEqualTo(Outcome.REFUSED);
        assertThat(send(ormgr, OR_PORT, "TLSR-3")).contains("MSA|AA|TLSR-3");
        assertThat(send(other, OR_PORT, "TLSR-4")).startsWith("refused");

        // a valid set that changes the binding (the listener restarts) but cannot start (a port in use):
        // the previous listener is recreated, on the previous binding
        Files.writeString(MAPPINGS.resolve("mercy-or.yaml"), MERCY_PROFILE);
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            Files.writeString(ROUTES.resolve("extra.yaml"), extraInterface(taken.getLocalPort()));
            Result failed = reloader.reload("test");
            assertThat(failed.outcome()).as("%s", failed.problems()).isEqualTo(Outcome.FAILED);
            assertThat(failed.problems()).containsExactly(failed.problems().get(0)); // everything was put back
        }
        assertThat(send(ormgr, OR_PORT, "TLSR-5")).contains("MSA|AA|TLSR-5");
        assertThat(send(other, OR_PORT, "TLSR-6")).startsWith("refused");

        // and once the set is valid and starts, the new binding holds
        Files.delete(ROUTES.resolve("extra.yaml"));
        assertThat(reloader.reload("test").outcome()).isEqualTo(Outcome.APPLIED);
        assertThat(send(other, OR_PORT, "TLSR-7")).contains("MSA|AA|TLSR-7");
        assertThat(send(ormgr, OR_PORT, "TLSR-8")).startsWith("refused");
    }

    @Test
    void aPreviousRouteThatCannotBePutBackIsAProblemOfTheFailedReload() throws Exception {
        int moved = TestInterfaces.freePort();
        grabWhenMovedTo = moved; // another program takes the old port the moment the listener leaves it
        Files.writeString(ROUTES.resolve("tls.yaml"), tlsInterface(moved, ORMGR));
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            Files.writeString(ROUTES.resolve("extra.yaml"), extraInterface(taken.getLocalPort()));
            Result failed = reloader.reload("test");
            assertThat(failed.outcome()).as("%s", failed.problems()).isEqualTo(Outcome.FAILED_PARTLY_RESTORED);
            assertThat(failed.problems()).hasSize(2);
            assertThat(failed.problems().get(0)).contains("routes/extra.yaml: interface extra-or cannot be started");
            assertThat(failed.problems().get(1)).startsWith("not restored: routes/tls.yaml: interface tls-or cannot be started");
        }
        assertThat(grabbed).isNotNull();
    }

    /** A participant that plays the other program: it binds the old port when the move is activated. */
    @TestConfiguration
    static class PortThief {
        @Bean
        ConfigParticipant portThief() {
            return new ConfigParticipant() {
                @Override
                public void activate(InterfaceCatalog next) {
                    if (grabWhenMovedTo != 0 && grabbed == null && next.find("tls-or")
                            .filter(i -> i.mllpPort() == grabWhenMovedTo).isPresent()) {
                        try {
                            ServerSocket socket = new ServerSocket();
                            socket.bind(new InetSocketAddress(OR_PORT));
                            grabbed = socket;
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                }
            };
        }
    }

    static void writeShippedSet() throws IOException {
        Files.deleteIfExists(ROUTES.resolve("extra.yaml"));
        Files.writeString(ROUTES.resolve("tls.yaml"), tlsInterface(OR_PORT, ORMGR));
        Files.writeString(MAPPINGS.resolve("mercy-or.yaml"), MERCY_PROFILE);
    }

    /** A plain MLLP interface, for a port that is in use. */
    static String extraInterface(int port) {
        return """
                - templatedRoute:
                    routeTemplateRef: hl7-mllp-inbound
                    parameters:
                      - { name: interfaceId, value: extra-or }
                      - { name: port, value: "%d" }
                      - { name: mapping, value: mercy-or.yaml }
                """.formatted(port);
    }

    static String tlsInterface(int port, String clientCertificate) {
        return """
                - templatedRoute:
                    routeTemplateRef: hl7-mllp-tls-inbound
                    parameters:
                      - { name: interfaceId, value: tls-or }
                      - { name: port, value: "%d" }
                      - { name: mapping, value: mercy-or.yaml }
                      - { name: tls, value: mllp-test }
                      - { name: clientCertificates, value: "%s" }
                """.formatted(port, clientCertificate);
    }

    /** The ACK, or "refused: …" when the hub would not talk. */
    private static String send(Issued client, int port, String controlId) throws Exception {
        String er7 = Samples.withControlId(Samples.read(Samples.MERCY), controlId);
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

    private static Path tempDir() {
        try {
            return Files.createTempDirectory("mllp-tls-reload");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
