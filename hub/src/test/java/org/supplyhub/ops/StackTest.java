package org.supplyhub.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.supplyhub.support.Await;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.Samples;
import org.supplyhub.support.Tokens;

/**
 * The native topology works: two hub nodes (own JVMs) on one fresh PostgreSQL database, HAProxy
 * in front. A token from one node is valid on the other (shared key and issuer); a message goes in
 * over MLLP and HTTP through HAProxy; after {@code kill -9} of a node the next message still gets AA
 * through HAProxy, from the survivor. Needs PostgreSQL at 127.0.0.1:5432 and HAProxy installed.
 */
class StackTest {

    static Stack stack;
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws IOException {
        // kept under target/ so the nodes' and HAProxy's logs can be read after a failure
        Path runDir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "stack-test-");
        // hubJar null: the hub from this JVM's classpath (verify runs tests before the jar exists)
        stack = Stack.start(StackOptions.builder().runDir(runDir).nodes(2).build());
    }

    @AfterAll
    static void stop() {
        if (stack != null) {
            stack.close();
            assertThat(stack.nodes()).noneMatch(HubNode::alive);
        }
    }

    @Test
    void twoNodesBehindHaproxySurviveAKill9() throws Exception {
        // a token the first node issued opens the second node (one signing key, one iss: HAProxy's URL)
        String token = Tokens.fetch(stack.node(0).base().toString(), "mercy-ormgr", "mercy-demo-secret", "ingest:mercy-or");
        assertThat(ack(postHl7(stack.node(1).base(), token, Samples.withControlId(Samples.read(Samples.MERCY), "STACK-1"))))
                .isEqualTo("AA");

        try (Mllp mllp = new Mllp(stack.mllpPort("mercy-or"))) {
            assertThat(ack(mllp.send(Samples.withControlId(Samples.read(Samples.MERCY), "STACK-2"), StandardCharsets.UTF_8)))
                    .isEqualTo("AA");
        }

        HubNode victim = stack.node(0);
        victim.kill9();
        assertThat(victim.alive()).isFalse();
        assertThat(victim.exitValue()).as("SIGKILL: 128 + 9").isEqualTo(137);

        // like a sender: reconnect and resend the same message until it is ACKed
        String third = Samples.withControlId(Samples.read(Samples.MERCY), "STACK-3");
        String answer = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (answer == null && System.nanoTime() < deadline) {
            try (Mllp mllp = new Mllp(stack.mllpPort("mercy-or"))) {
                answer = mllp.send(third, StandardCharsets.UTF_8);
            } catch (IOException e) {
                Thread.sleep(200);
            }
        }
        assertThat(ack(answer)).isEqualTo("AA");
        String viaBalancer = Tokens.fetch(stack.httpBase().toString(), "mercy-ormgr", "mercy-demo-secret", "ingest:mercy-or");
        assertThat(ack(postHl7(stack.httpBase(), viaBalancer, Samples.withControlId(Samples.read(Samples.MERCY), "STACK-4"))))
                .isEqualTo("AA");

        try (Connection c = DriverManager.getConnection(stack.jdbcUrl(), "postgres", "");
             Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("select count(*) from message where status = 'ACCEPTED' and control_id like 'STACK-%'")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(4);
        }
        // HAProxy's own health check took the dead node out (inter 1s, fall 2)
        Await.until(() -> haproxyLog().contains("hub_mercy_or/hub1 is DOWN"), 10);
    }

    private static String haproxyLog() {
        try {
            return Files.readString(stack.logsDir().resolve("haproxy.log"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String postHl7(URI base, String token, String message) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(base.resolve("/hl7/mercy-or"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/hl7-v2")
                .POST(HttpRequest.BodyPublishers.ofString(message)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    private static String ack(String ack) {
        assertThat(ack).as("an ACK").isNotNull();
        for (String segment : ack.split("\r")) {
            if (segment.startsWith("MSA|")) {
                return segment.split("\\|")[1];
            }
        }
        throw new AssertionError("no MSA in the answer");
    }
}
