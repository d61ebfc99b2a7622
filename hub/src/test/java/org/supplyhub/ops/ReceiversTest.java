package org.supplyhub.ops;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.rest.client.api.IGenericClient;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.ChargeItem;
import org.hl7.fhir.r4.model.Identifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.supplyhub.support.Mllp;
import org.supplyhub.support.TestInterfaces;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The fault campaign's receivers judge what the hub did, so they must themselves count right: a
 * redelivery with the same key applies nothing, the same business effect under a new key is a
 * duplicate, and down means refused.
 */
class ReceiversTest {

    private static Receivers receivers;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        receivers = Receivers.start(new ReceiverPorts(TestInterfaces.freePort(), TestInterfaces.freePort(),
                TestInterfaces.freePort()));
    }

    @AfterAll
    static void stop() throws Exception {
        receivers.close();
    }

    private static String dft(String controlId, String tx) {
        return "MSH|^~\\&|SUPPLYHUB|HUB|PATACCT|MERCY|20261129090000||DFT^P03^DFT_P03|" + controlId + "|P|2.5.1\r"
                + "FT1|1|" + tx + "-1||20261114091000||CG|270004512^SUTURE^CDM|||2\r"
                + "FT1|2|" + tx + "-3||20261114091000||CG|278009041^KNEE^CDM|||1\r";
    }

    @Test
    void billingDedupesOnTheControlIdAndCountsACharge_lineSentUnderAnotherAsADuplicate() throws IOException {
        Ledger ledger = receivers.billing().ledger();
        long redeliveries = ledger.tally().redeliveries();
        try (Mllp mllp = new Mllp(receivers.billing().port())) {
            assertThat(mllp.send(dft("SH1", "TX-r-1"), StandardCharsets.UTF_8)).contains("MSA|AA|SH1");
            assertThat(mllp.send(dft("SH1", "TX-r-1"), StandardCharsets.UTF_8)).contains("MSA|AA|SH1");
            assertThat(ledger.tally().redeliveries()).isEqualTo(redeliveries + 1);
            assertThat(ledger.tally(k -> k.contains("TX-r-"))).extracting(Ledger.Tally::applied, Ledger.Tally::duplicates)
                    .containsExactly(2L, 0L);
            mllp.send(dft("SH2", "TX-r-1"), StandardCharsets.UTF_8); // the same charges under a new control id
        }
        assertThat(ledger.tally(k -> k.contains("TX-r-")).duplicates()).isEqualTo(2);
        assertThat(ledger.effects()).containsEntry("charge|CG|TX-r-1-1", 2);
    }

    @Test
    void inventoryDedupesOnTheIdempotencyKey() throws Exception {
        Ledger ledger = receivers.inventory().ledger();
        String body = "{\"movements\":[{\"transactionId\":\"TX-i-1-1\"},{\"transactionId\":\"TX-i-1-2\"}]}";
        for (String key : new String[]{"k1", "k1", "k2"}) {
            HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + receivers.inventory().port() + "/stock"))
                    .header("Idempotency-Key", key).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.discarding());
            assertThat(r.statusCode()).isEqualTo(201);
        }
        Ledger.Tally t = ledger.tally(k -> k.contains("TX-i-"));
        assertThat(t.redeliveries()).isEqualTo(1); // only this test posts to inventory
        assertThat(t.applied()).isEqualTo(2);
        assertThat(t.duplicates()).isEqualTo(2); // k2 moved the same stock again
    }

    @Test
    void fhirServerMakesACreateThatIsNotConditionalVisibleAsADuplicate() {
        IGenericClient client = FhirContext.forR4Cached().newRestfulGenericClient(
                "http://127.0.0.1:" + receivers.fhir().port() + "/fhir");
        ChargeItem charge = new ChargeItem();
        charge.addIdentifier(new Identifier().setSystem("urn:tx").setValue("TX-f-1-1"));
        Bundle conditional = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        conditional.addEntry().setResource(charge).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("ChargeItem")
                .setIfNoneExist("identifier=urn:tx|TX-f-1-1");
        client.transaction().withBundle(conditional).execute();
        client.transaction().withBundle(conditional).execute();
        Ledger ledger = receivers.fhir().ledger();
        assertThat(ledger.tally(k -> k.contains("TX-f-")).duplicates()).isZero();
        Bundle plain = new Bundle().setType(Bundle.BundleType.TRANSACTION);
        plain.addEntry().setResource(charge).getRequest().setMethod(Bundle.HTTPVerb.POST).setUrl("ChargeItem");
        client.transaction().withBundle(plain).execute();
        assertThat(ledger.tally(k -> k.contains("TX-f-")).duplicates()).isEqualTo(1);
    }

    @Test
    void downRefusesAndClosesConnections_upListensAgain_slowAnswersLate() throws Exception {
        Receivers.Receiver billing = receivers.billing();
        try (Mllp open = new Mllp(billing.port())) {
            billing.down();
            assertThat(open.closedByPeer()).isTrue();
            assertThatThrownBy(() -> new Mllp(billing.port()).close()).isInstanceOf(ConnectException.class);
        } finally {
            billing.up();
        }
        billing.slow(Duration.ofMillis(500));
        try (Mllp mllp = new Mllp(billing.port())) {
            long t = System.nanoTime();
            assertThat(mllp.send(dft("SH9", "TX-s-1"), StandardCharsets.UTF_8)).contains("MSA|AA|SH9");
            assertThat(System.nanoTime() - t).isGreaterThan(450_000_000L);
        } finally {
            billing.normal();
        }
    }
}
