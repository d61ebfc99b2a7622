package org.supplyhub.ingest;

import org.supplyhub.support.JournalColumns;
import org.supplyhub.admin.MessageQueries;
import org.supplyhub.journal.crypto.JournalKeys;
import org.supplyhub.journal.crypto.Column;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.app.Connection;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import org.hl7.fhir.r4.model.ChargeItem;
import org.hl7.fhir.r4.model.Device;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.SupplyDelivery;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.math.BigDecimal;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The intake contract over real sockets, against a real database (subclasses pick which): a
 * third-party MLLP client (HAPI) sends the samples; ACKs, journal rows and every FHIR resource are
 * checked field by field against the sample values, and validated against the base R4 profiles.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_CLASS) // frees its MLLP ports for the next class
abstract class AbstractIntakeTest {

    static final TestInterfaces INTERFACES = TestInterfaces.copyOfShipped();
    static HapiContext hapi;

    @Autowired
    JdbcTemplate jdbc;
    @Autowired
    JournalKeys keys;
    @Autowired
    MessageQueries queries;

    @LocalServerPort
    int httpPort;

    @DynamicPropertySource
    static void interfaces(DynamicPropertyRegistry registry) {
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    static void database(DynamicPropertyRegistry registry, Map<String, String> props) {
        props.forEach((k, v) -> registry.add(k, () -> v));
    }

    @BeforeAll
    static void client() {
        hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
    }

    @AfterAll
    static void closeClient() throws Exception {
        hapi.close();
    }

    /** Sends over MLLP with HAPI's client and returns the ACK as ER7. */
    String sendMllp(String iface, String er7) throws Exception {
        Message message = hapi.getPipeParser().parse(er7);
        Connection connection = hapi.newClient("127.0.0.1", INTERFACES.ports.get(iface), false);
        try {
            return hapi.getPipeParser().encode(connection.getInitiator().sendAndReceive(message));
        } finally {
            connection.close();
        }
    }

    HttpResponse<String> postHttp(String iface, String er7) throws Exception {
        String client = iface.startsWith("lakeside") ? Tokens.LAKESIDE : Tokens.MERCY;
        String token = Tokens.sample(httpPort, client, client.equals(Tokens.LAKESIDE) ? "ingest:lakeside-cath" : "ingest:mercy-or");
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/hl7/" + iface))
                .header("Authorization", "Bearer " + token)
                .header("Content-Type", "application/hl7-v2; charset=UTF-8")
                .POST(HttpRequest.BodyPublishers.ofString(er7)).build();
        return HttpClient.newHttpClient().send(request, HttpResponse.BodyHandlers.ofString());
    }

    static String ackCode(String ack) {
        for (String segment : ack.split("\r")) {
            if (segment.startsWith("MSA|")) {
                return segment.split("\\|")[1];
            }
        }
        throw new AssertionError("no MSA in " + ack);
    }

    static String segment(String ack, String name) {
        for (String segment : ack.split("\r")) {
            if (segment.startsWith(name + "|")) {
                return segment;
            }
        }
        return null;
    }

    static String fresh(String sample) {
        return Samples.withControlId(Samples.read(sample), "T" + UUID.randomUUID().toString().substring(0, 18));
    }

    int count(String sql, Object... args) {
        Integer n = jdbc.queryForObject(sql, Integer.class, args);
        return n == null ? 0 : n;
    }

    /** The FHIR resources of the messages with this control id as the admin API and the console show them. */
    List<Resource> outputs(String controlId) {
        return jdbc.queryForList("select id from message where control_id = ? and status = 'ACCEPTED' order by id",
                        Long.class, controlId).stream()
                .flatMap(id -> queries.outputs(id).stream())
                .map(o -> (Resource) FhirContext.forR4Cached().newJsonParser().parseResource(o.resource()))
                .toList();
    }

    @Test
    void mercySampleIsAcceptedJournaledAndMappedFieldByField() throws Exception {
        String er7 = Samples.read(Samples.MERCY);
        String ack = sendMllp("mercy-or", er7);

        assertThat(ackCode(ack)).isEqualTo("AA");
        assertThat(segment(ack, "MSA")).contains("OR20261114093512001");
        Map<String, Object> row = jdbc.queryForMap("select * from message where control_id = ?", "OR20261114093512001");
        assertThat(row.get("status")).isEqualTo("ACCEPTED");
        assertThat(row.get("interface_id")).isEqualTo("mercy-or");
        assertThat(row.get("sender")).isEqualTo("ORMGR^MERCY_OR");
        assertThat(row.get("message_type")).isEqualTo("DFT^P03");
        JournalColumns columns = new JournalColumns(jdbc, keys);
        assertThat(columns.open(Column.MESSAGE_ACK, row.get("ack"))).isEqualTo(ack);
        assertThat(new String(columns.open(Column.MESSAGE_RAW, (byte[]) row.get("raw")), java.nio.charset.StandardCharsets.UTF_8))
                .isEqualTo(er7);
        assertThat(count("select count(*) from outbox o join message m on m.id = o.message_id where m.control_id = ?"
                + " and o.status = 'PENDING'", "OR20261114093512001")).isEqualTo(3);
        assertThat(jdbc.queryForList("select o.destination from outbox o join message m on m.id = o.message_id"
                + " where m.control_id = ? order by o.destination", String.class, "OR20261114093512001"))
                .containsExactly("fhir-server", "mercy-billing", "mercy-inventory");
        // the journal holds the usage and how to render it; the resources are rendered when asked for
        assertThat(count("select count(*) from message_output o join message m on m.id = o.message_id"
                + " where m.control_id = ?", "OR20261114093512001")).isZero();
        assertThat(columns.open(Column.MESSAGE_USAGE, row.get("usage_json"))).startsWith("{\"render\":{\"version\":1,"
                + "\"systems\":{\"transaction\":\"https://fhir.mercy.example.org/sid/or-transaction\"");

        List<Resource> resources = outputs("OR20261114093512001");
        resources.forEach(R4Validator::assertValid);
        List<SupplyDelivery> deliveries = ofType(resources, SupplyDelivery.class);
        List<ChargeItem> charges = ofType(resources, ChargeItem.class);
        List<Device> devices = ofType(resources, Device.class);
        assertThat(deliveries).hasSize(3);
        assertThat(charges).hasSize(3);
        assertThat(devices).hasSize(1);

        SupplyDelivery suture = deliveries.get(0);
        assertThat(suture.getIdentifierFirstRep().getValue()).isEqualTo("TX-88120-1");
        assertThat(suture.getIdentifierFirstRep().getSystem()).isEqualTo("https://fhir.mercy.example.org/sid/or-transaction");
        assertThat(suture.getStatus()).isEqualTo(SupplyDelivery.SupplyDeliveryStatus.COMPLETED);
        assertThat(suture.getPatient().getIdentifier().getValue()).isEqualTo("MRN448812");
        assertThat(suture.getPatient().getIdentifier().getSystem()).isEqualTo("https://fhir.mercy.example.org/sid/mrn");
        assertThat(suture.getSuppliedItem().getQuantity().getValue()).isEqualByComparingTo("2");
        assertThat(suture.getSuppliedItem().getQuantity().getUnit()).isEqualTo("EA");
        assertThat(suture.getSuppliedItem().getItemCodeableConcept().getCoding())
                .extracting(c -> c.getCode()).containsExactly("270004512", "INV-100231");
        assertThat(suture.getOccurrenceDateTimeType().getValueAsString()).isEqualTo("2026-11-14T09:10:00-06:00");
        assertThat(suture.getDestination().getIdentifier().getValue()).isEqualTo("OR-03-A");
        assertThat(suture.getReceiverFirstRep().getIdentifier().getValue()).isEqualTo("1234567890");

        ChargeItem sutureCharge = charges.get(0);
        assertThat(sutureCharge.getStatus()).isEqualTo(ChargeItem.ChargeItemStatus.BILLABLE);
        assertThat(sutureCharge.getCode().getCodingFirstRep().getCode()).isEqualTo("270004512");
        assertThat(sutureCharge.getQuantity().getValue()).isEqualByComparingTo("2");
        assertThat(sutureCharge.getPriceOverride().getValue()).isEqualByComparingTo("18.40");
        assertThat(sutureCharge.getPriceOverride().getCurrency()).isEqualTo("USD");
        assertThat(sutureCharge.getSubject().getIdentifier().getValue()).isEqualTo("MRN448812");
        assertThat(sutureCharge.getContext().getIdentifier().getValue()).isEqualTo("V55012874");
        assertThat(sutureCharge.getAccountFirstRep().getIdentifier().getValue()).isEqualTo("ACCT90017733");
        assertThat(sutureCharge.getCostCenter().getIdentifier().getValue()).isEqualTo("7010");
        assertThat(sutureCharge.getServiceFirstRep().getReference()).isEqualTo("urn:uuid:" + suture.getIdElement().getIdPart());

        ChargeItem spongeCharge = charges.get(1);
        assertThat(spongeCharge.getStatus()).as("sponges are not chargeable").isEqualTo(ChargeItem.ChargeItemStatus.NOTBILLABLE);
        assertThat(deliveries.get(1).getSuppliedItem().getQuantity().getValue()).isEqualByComparingTo("3");

        Device knee = devices.get(0);
        Device.DeviceUdiCarrierComponent udi = knee.getUdiCarrierFirstRep();
        assertThat(udi.getDeviceIdentifier()).isEqualTo("00889024123458");
        assertThat(udi.getIssuer()).isEqualTo("http://hl7.org/fhir/NamingSystem/gs1-di");
        assertThat(udi.getJurisdiction()).isEqualTo("http://hl7.org/fhir/NamingSystem/fda-udi");
        assertThat(udi.getCarrierHRF()).isEqualTo("(01)00889024123458(17)300101(10)LOT7781A(21)SN00042519");
        assertThat(knee.getLotNumber()).isEqualTo("LOT7781A");
        assertThat(knee.getSerialNumber()).isEqualTo("SN00042519");
        assertThat(knee.getExpirationDateElement().getValueAsString()).isEqualTo("2030-01-01");
        assertThat(knee.getManufacturer()).isEqualTo("ZIMMER BIOMET");
        assertThat(knee.getIdentifier().get(1).getValue()).isEqualTo("5020-10-05"); // catalog number
        assertThat(knee.getPatient().getIdentifier().getValue()).isEqualTo("MRN448812");
        assertThat(deliveries.get(2).getSuppliedItem().getItemReference().getReference())
                .isEqualTo("urn:uuid:" + knee.getIdElement().getIdPart());
        ChargeItem kneeCharge = charges.get(2);
        assertThat(kneeCharge.getProductReference().getReference()).isEqualTo("urn:uuid:" + knee.getIdElement().getIdPart());
        assertThat(kneeCharge.getCode().getCoding()).extracting(c -> c.getCode()).containsExactly("278009041", "C1776");
        assertThat(kneeCharge.getPriceOverride().getValue()).isEqualByComparingTo("4850.00");
    }

    @Test
    void aSenderThatReusesControlIdsIsTakenMessageByMessageWhenItsProfileSaysSo() throws Exception {
        // Riverside sends MSG00001 in every message; its profile says reusedControlIds: newMessage
        java.nio.file.Path dir = TestInterfaces.projectRoot().resolve("mappings/tests/riverside-ir");
        String first = java.nio.file.Files.readString(dir.resolve("stent-services-equipment.hl7")).strip().replace("\r\n", "\r").replace('\n', '\r');
        String second = java.nio.file.Files.readString(dir.resolve("same-control-id-next-day.hl7")).strip().replace("\r\n", "\r").replace('\n', '\r');

        String firstAck = sendMllp("riverside-ir", first);
        String secondAck = sendMllp("riverside-ir", second);
        assertThat(ackCode(firstAck)).isEqualTo("AA");
        assertThat(ackCode(secondAck)).isEqualTo("AA");
        // a true resend is still answered from the journal, byte for byte, and stored once
        assertThat(sendMllp("riverside-ir", first)).isEqualTo(firstAck);
        assertThat(count("select count(*) from message where interface_id = 'riverside-ir' and control_id = 'MSG00001'"
                + " and status = 'ACCEPTED'")).isEqualTo(2);
        assertThat(count("select count(*) from outbox o join message m on m.id = o.message_id"
                + " where m.interface_id = 'riverside-ir'")).isEqualTo(6);
        // lines without FT1-2 get transaction ids from MSH-7, MSH-10 and FT1-1: distinct across the two
        List<ChargeItem> charges = ofType(outputs("MSG00001"), ChargeItem.class);
        assertThat(charges).hasSize(7);
        assertThat(charges).extracting(c -> c.getIdentifierFirstRep().getValue()).doesNotHaveDuplicates();
        assertThat(charges).extracting(c -> c.getIdElement().getIdPart()).doesNotHaveDuplicates();
    }

    @Test
    void lakesideSampleMapsThePrtDevice() throws Exception {
        String ack = sendMllp("lakeside-cath", Samples.read(Samples.LAKESIDE));
        assertThat(ackCode(ack)).isEqualTo("AA");

        List<Resource> resources = outputs("LK-5521907");
        resources.forEach(R4Validator::assertValid);
        Device pacemaker = ofType(resources, Device.class).get(0);
        assertThat(ofType(resources, Device.class)).hasSize(1);
        assertThat(pacemaker.getUdiCarrierFirstRep().getDeviceIdentifier()).isEqualTo("00643169001763");
        assertThat(pacemaker.getLotNumber()).isEqualTo("123ABC");
        assertThat(pacemaker.getSerialNumber()).isEqualTo("21A11F4855");
        assertThat(pacemaker.getManufactureDateElement().getValueAsString()).isEqualTo("2024-04-01");
        assertThat(pacemaker.getExpirationDateElement().getValueAsString()).isEqualTo("2029-07-12");
        assertThat(pacemaker.getDeviceNameFirstRep().getName()).isEqualTo("ADVISA MRI A3DR01");
        assertThat(pacemaker.getManufacturer()).isEqualTo("MEDTRONIC");
        List<ChargeItem> charges = ofType(resources, ChargeItem.class);
        assertThat(charges).hasSize(2);
        assertThat(charges.get(0).getCode().getCoding()).extracting(c -> c.getCode()).containsExactly("278005510", "C1785");
        assertThat(charges.get(1).getQuantity().getValue()).isEqualByComparingTo("2");
        assertThat(charges.get(1).getPriceOverride().getValue()).isEqualByComparingTo("310.00");
        assertThat(charges.get(0).getSubject().getIdentifier().getValue()).isEqualTo("E2291004");
    }

    @Test
    void creditReversesTheOriginalTransaction() throws Exception {
        String er7 = fresh(Samples.MERCY_CREDIT);
        assertThat(ackCode(sendMllp("mercy-or", er7))).isEqualTo("AA");

        List<Resource> resources = outputs(Samples.controlId(er7));
        resources.forEach(R4Validator::assertValid);
        SupplyDelivery returned = ofType(resources, SupplyDelivery.class).get(0);
        assertThat(returned.getSuppliedItem().getQuantity().getValue()).isEqualByComparingTo("-1");
        assertThat(returned.getPartOfFirstRep().getIdentifier().getValue()).isEqualTo("TX-88120-2");
        ChargeItem credit = ofType(resources, ChargeItem.class).get(0);
        assertThat(credit.getQuantity().getValue()).isEqualByComparingTo("-1");
        assertThat(credit.getPriceOverride().getValue()).isEqualByComparingTo(new BigDecimal("-7.50"));
        assertThat(credit.getPartOfFirstRep().getIdentifier().getValue()).isEqualTo("TX-88120-2");
        assertThat(ofType(resources, Device.class)).isEmpty();
    }

    @Test
    void resendGetsTheOriginalAckAndStoresNothingNew() throws Exception {
        String er7 = fresh(Samples.MERCY);
        String first = sendMllp("mercy-or", er7);
        int messages = count("select count(*) from message");
        int outbox = count("select count(*) from outbox");

        String again = sendMllp("mercy-or", er7);
        HttpResponse<String> overHttp = postHttp("mercy-or", er7);

        assertThat(ackCode(first)).isEqualTo("AA");
        assertThat(again).isEqualTo(first);
        assertThat(overHttp.statusCode()).isEqualTo(200);
        assertThat(overHttp.body()).isEqualTo(first);
        assertThat(count("select count(*) from message")).isEqualTo(messages);
        assertThat(count("select count(*) from outbox")).isEqualTo(outbox);
    }

    @Test
    void httpIntakeAnswersWithTheAck() throws Exception {
        String er7 = fresh(Samples.LAKESIDE).replace("\r", "\r\n"); // HTTP senders often use CRLF
        HttpResponse<String> response = postHttp("lakeside-cath", er7);
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/hl7-v2");
        assertThat(ackCode(response.body())).isEqualTo("AA");
        assertThat(count("select count(*) from message where control_id = ? and status = 'ACCEPTED'",
                Samples.controlId(er7.replace("\r\n", "\r")))).isEqualTo(1);
    }

    @Test
    void garbageIsRejectedWithErrAndKept() throws Exception {
        HttpResponse<String> response = postHttp("mercy-or", "this is not HL7 at all");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(ackCode(response.body())).isEqualTo("AR");
        assertThat(segment(response.body(), "ERR")).isNotNull();
        assertThat(new JournalColumns(jdbc, keys).texts(Column.MESSAGE_ERROR,
                "select error from message where status = 'REJECTED' and raw is not null"))
                .anyMatch(error -> error.startsWith("not an HL7 v2 message"));
    }

    @Test
    void missingControlIdAndWrongTypeAreRejected() throws Exception {
        String noControlId = Samples.withControlId(Samples.read(Samples.MERCY), "");
        String ack = postHttp("mercy-or", noControlId).body();
        assertThat(ackCode(ack)).isEqualTo("AR");
        assertThat(segment(ack, "ERR")).contains("MSH^1^10").contains("101");

        String adt = Samples.withField(fresh(Samples.MERCY), "MSH", 8, "ADT^A01^ADT_A01");
        String adtAck = sendMllp("mercy-or", adt);
        assertThat(ackCode(adtAck)).isEqualTo("AR");
        assertThat(segment(adtAck, "ERR")).contains("200");
        assertThat(count("select count(*) from message where control_id = ? and status = 'REJECTED'",
                Samples.controlId(adt))).isEqualTo(1);
    }

    @Test
    void unknownItemIsAnApplicationErrorNamingTheField() throws Exception {
        String er7 = fresh(Samples.MERCY).replace("270004512^SUTURE", "999999999^SUTURE");
        String ack = sendMllp("mercy-or", er7);
        assertThat(ackCode(ack)).isEqualTo("AE");
        String err = segment(ack, "ERR");
        assertThat(err).contains("FT1^1^7").contains("103").contains("MERCYCDM\\F\\999999999"); // | escaped in ER7
        Map<String, Object> row = jdbc.queryForMap("select status, error from message where control_id = ?",
                Samples.controlId(er7));
        assertThat(row.get("status")).isEqualTo("ERROR");
        assertThat(jdbc.queryForObject("select usage_json from message where control_id = ?", String.class,
                Samples.controlId(er7))).as("nothing mapped, nothing to render").isNull();
        assertThat(count("select count(*) from outbox o join message m on m.id = o.message_id"
                + " where m.control_id = ?", Samples.controlId(er7))).isZero();
    }

    @Test
    void badUdiAndMissingPatientAreApplicationErrors() throws Exception {
        String badUdi = fresh(Samples.MERCY).replace("(01)00889024123458", "(01)00889024123459");
        String ack = sendMllp("mercy-or", badUdi);
        assertThat(ackCode(ack)).isEqualTo("AE");
        assertThat(segment(ack, "ERR")).contains("ZIM").contains("check digit");

        String noPatient = fresh(Samples.MERCY).replace("MRN448812^^^MERCY^MR", "");
        String ack2 = sendMllp("mercy-or", noPatient);
        assertThat(ackCode(ack2)).isEqualTo("AE");
        assertThat(segment(ack2, "ERR")).contains("PID^1^3").contains("101");
    }

    @Test
    void unknownInterfaceAndWrongContentTypeAreProblems() throws Exception {
        // no client holds ingest:no-such-interface, so an unknown interface is as closed as another's
        HttpResponse<String> unknown = postHttp("no-such-interface", Samples.read(Samples.MERCY));
        assertThat(unknown.statusCode()).isEqualTo(403);
        assertThat(unknown.headers().firstValue("Content-Type").orElseThrow()).contains("application/problem+json");

        HttpRequest json = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/hl7/mercy-or"))
                .header("Authorization", "Bearer " + Tokens.sample(httpPort, Tokens.MERCY, "ingest:mercy-or"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build();
        assertThat(HttpClient.newHttpClient().send(json, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(415);
    }

    static <T extends Resource> List<T> ofType(List<Resource> resources, Class<T> type) {
        return resources.stream().filter(type::isInstance).map(type::cast).toList();
    }
}
