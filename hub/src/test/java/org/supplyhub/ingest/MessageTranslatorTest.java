package org.supplyhub.ingest;

import ca.uhn.hl7v2.ErrorCode;
import org.junit.jupiter.api.Test;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.support.R4Validator;
import org.supplyhub.support.Samples;
import org.supplyhub.support.TestInterfaces;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

/** What intake (and {@code try}) make of a message before anything is stored: one outcome per stage. */
class MessageTranslatorTest {

    static final InterfaceCatalog CATALOG = InterfaceCatalog.load(TestInterfaces.projectRoot().resolve("routes"),
            TestInterfaces.projectRoot().resolve("mappings"));
    static final InterfaceDefinition MERCY = CATALOG.get("mercy-or");
    final MessageTranslator translator = new MessageTranslator(new Hl7Support());

    MessageTranslator.Translation translate(String er7) {
        return translator.translate(MERCY, er7.getBytes(StandardCharsets.UTF_8), null);
    }

    MessageTranslator.Rejected rejected(String er7, MessageTranslator.Refusal refusal) {
        MessageTranslator.Translation t = translate(er7);
        assertThat(t).isInstanceOf(MessageTranslator.Rejected.class);
        MessageTranslator.Rejected r = (MessageTranslator.Rejected) t;
        assertThat(r.refusal()).isEqualTo(refusal);
        assertThat(r.ackCode()).isEqualTo("AR");
        assertThat(r.ack()).contains("\rMSA|AR");
        return r;
    }

    @Test
    void aGoodMessageIsAcceptedWithItsUsageResourcesAndAck() {
        MessageTranslator.Translation t = translate(Samples.read(Samples.MERCY).replace("\r", "\r\n"));
        assertThat(t).isInstanceOf(MessageTranslator.Accepted.class);
        MessageTranslator.Accepted a = (MessageTranslator.Accepted) t;
        assertThat(a.text()).doesNotContain("\n"); // segments end with CR, whatever the file had
        assertThat(a.ack()).contains("MSA|AA|OR20261114093512001");
        assertThat(a.usage().lines()).hasSize(3);
        assertThat(a.resources()).isNotEmpty().allSatisfy(R4Validator::assertValid);
        assertThat(a.charset()).isEqualTo(StandardCharsets.UTF_8); // MSH-18 UNICODE UTF-8
    }

    @Test
    void eachStageRefusesWithItsReason() {
        String mercy = Samples.read(Samples.MERCY);
        rejected("EVN|P03\rPID|1", MessageTranslator.Refusal.NOT_HL7);
        assertThat(rejected(Samples.withControlId(mercy, ""), MessageTranslator.Refusal.HEADER).error().getErrorCode())
                .isEqualTo(ErrorCode.REQUIRED_FIELD_MISSING.getCode());
        rejected(Samples.withControlId(mercy, "X".repeat(MessageTranslator.MAX_CONTROL_ID + 1)),
                MessageTranslator.Refusal.HEADER);
        rejected(mercy.replace("|ORMGR|MERCY_OR|", "|ORMGR|ELSEWHERE|"), MessageTranslator.Refusal.SENDER);
        rejected(mercy.replace("DFT^P03^DFT_P03", "ADT^A01^ADT_A01"), MessageTranslator.Refusal.MESSAGE_TYPE);
        rejected(mercy.replace("PID|1||", "PID|1||" + "^".repeat(10_000)), MessageTranslator.Refusal.SHAPE);
    }

    @Test
    void aMessageTheProfileCannotMapIsNotMappedWithAnAe() {
        MessageTranslator.Translation t = translate(Samples.read(Samples.MERCY).replace("270004512^SUTURE", "999999999^SUTURE"));
        assertThat(t).isInstanceOf(MessageTranslator.NotMapped.class);
        MessageTranslator.NotMapped n = (MessageTranslator.NotMapped) t;
        assertThat(n.ackCode()).isEqualTo("AE");
        assertThat(n.ack()).contains("MSA|AE|OR20261114093512001", "ERR|");
        assertThat(n.error().getMessage()).contains("999999999");
    }
}
