package org.supplyhub.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Group;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.util.Terser;
import org.junit.jupiter.api.Test;
import org.supplyhub.support.Samples;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@link Hl7Support#parse(String, String)}: a message parsed into the model of a profile's version. */
class Hl7SupportVersionTest {

    private final Hl7Support hl7 = new Hl7Support();
    private final String mercy = Samples.read(Samples.MERCY); // v2.5.1, three FT1s and a ZIM

    @Test
    void aV251MessageParsedAs28HasThe28Groups() throws HL7Exception {
        Message asSent = hl7.parse(mercy);
        Message as28 = hl7.parse(mercy, "2.8");

        assertThat(asSent).isInstanceOf(ca.uhn.hl7v2.model.v251.message.DFT_P03.class);
        assertThat(as28).isInstanceOf(ca.uhn.hl7v2.model.v28.message.DFT_P03.class);
        Group financial = (Group) as28.get("FINANCIAL");
        assertThat(List.of(financial.getNames())).contains("FT1", "PRT", "ROL", "FINANCIAL_PROCEDURE");
        assertThat(List.of(((Group) asSent.get("FINANCIAL")).getNames())).doesNotContain("PRT");

        Terser terser = new Terser(as28);
        assertThat(as28.getAll("FINANCIAL")).hasSize(3);
        assertThat(terser.get("/FINANCIAL(2)/FT1-7-1")).isEqualTo("278009041");
        assertThat(terser.get("/PID-3-1")).isEqualTo("MRN448812");
        assertThat(terser.get("/FINANCIAL(2)/ZIM-3")).as("a Z-segment stays in the line group it followed").isEqualTo("LOT7781A");
        assertThat(terser.get("/MSH-12")).as("the data still says what the sender sent").isEqualTo("2.5.1");
    }

    @Test
    void eachVersionKeepsItsOwnParser() throws HL7Exception {
        assertThat(hl7.parse(mercy, "2.3")).isInstanceOf(ca.uhn.hl7v2.model.v23.message.DFT_P03.class);
        assertThat(hl7.parse(mercy, "2.8")).isInstanceOf(ca.uhn.hl7v2.model.v28.message.DFT_P03.class);
        assertThat(hl7.parse(mercy, "2.5.1")).isInstanceOf(ca.uhn.hl7v2.model.v251.message.DFT_P03.class);
        assertThat(hl7.parse(mercy)).isInstanceOf(ca.uhn.hl7v2.model.v251.message.DFT_P03.class);
    }

    @Test
    void theAckAnswersInTheSendersVersion() throws HL7Exception {
        String ack = hl7.ack(hl7.parse(mercy, "2.8"), AcknowledgmentCode.AA, null, null);
        assertThat(ack.split("\r")[0].split("\\|")[11]).isEqualTo("2.5.1");
        assertThat(ack).contains("MSA|AA|OR20261114093512001");
    }

    @Test
    void errorsAreCodedAsForTheSendersVersion() {
        String truncated = "MSH|^~\\&|A\rPID|1"; // HAPI's 207 "internal error" is the message's fault: 102
        assertThatThrownBy(() -> hl7.parse(truncated, "2.8")).isInstanceOfSatisfying(HL7Exception.class,
                e -> assertThat(e.getErrorCode()).isEqualTo(ErrorCode.DATA_TYPE_ERROR.getCode()));
        String noVersion = mercy.replace("|P|2.5.1|", "|P||");
        assertThatThrownBy(() -> hl7.parse(noVersion, "2.8")).isInstanceOfSatisfying(HL7Exception.class,
                e -> assertThat(e.getErrorCode()).isEqualTo(ErrorCode.REQUIRED_FIELD_MISSING.getCode()));
    }

    @Test
    void anUnknownVersionIsAConfigurationError() {
        assertThatThrownBy(() -> hl7.parse(mercy, "2.9")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("no HAPI model for HL7 version 2.9");
    }
}
