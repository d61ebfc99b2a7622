package org.supplyhub.ingest;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Location;
import ca.uhn.hl7v2.model.Message;
import org.hl7.fhir.r4.model.Resource;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.hl7.Hl7Charsets;
import org.supplyhub.hl7.Hl7Header;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.journal.Journal;
import org.supplyhub.mapping.FhirRenderer;
import org.supplyhub.mapping.MappingException;
import org.supplyhub.mapping.MappingProfile;
import org.supplyhub.mapping.RenderSpec;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.UsageMapper;
import org.supplyhub.safety.ImplantChecks;

import java.nio.charset.Charset;
import java.util.List;

/**
 * What intake makes of one message before anything is stored: shape check → header checks → parse →
 * message-type check → map → ACK. FHIR resources are not built here: they are rendered from the journaled
 * usage when needed ({@link FhirRenderer}). Pure (no journal, no audit, no metrics), so intake and the
 * command line's {@code try} answer the same message the same way.
 */
public final class MessageTranslator {

    /** What the journal holds of MSH-10 and of each of MSH-3/MSH-4 (the sender is both, joined by ^). */
    static final int MAX_CONTROL_ID = 199;
    static final int MAX_SENDER_PART = (Journal.MAX_SENDER - 1) / 2;

    private final Hl7Support hl7;
    private final ImplantChecks checks;

    /** Without the recall list and the implant history (the command line's {@code try}). */
    public MessageTranslator(Hl7Support hl7) {
        this(hl7, ImplantChecks.OFFLINE);
    }

    public MessageTranslator(Hl7Support hl7, ImplantChecks checks) {
        this.hl7 = hl7;
        this.checks = checks;
    }

    /** Why a message was refused (AR) before it was mapped. */
    public enum Refusal {
        /** Beyond {@code Hl7Limits}, or MSH-1/MSH-2 unusable. */
        SHAPE,
        /** Does not start with an MSH segment. */
        NOT_HL7,
        /** MSH-10 missing, or an MSH field the journal cannot hold. */
        HEADER,
        /** MSH-3/MSH-4 not among the interface's {@code accept.senders}. */
        SENDER,
        /** HAPI could not parse it. */
        PARSE,
        /** Not a message type the interface takes. */
        MESSAGE_TYPE,
        /** The ACK would be longer than the journal keeps. */
        ACK_TOO_LONG
    }

    /** The outcome: the ACK to send and what goes with it. */
    public sealed interface Translation permits Accepted, NotMapped, Rejected {
        /** The text as read: decoded and with CR segment ends. */
        String text();

        Charset charset();

        /** Null when the text does not start with a usable MSH. */
        Hl7Header header();

        /** AA, AE or AR. */
        String ackCode();

        /** The ER7 ACK. */
        String ack();
    }

    /** AA: mapped; the usage intake journals, and how its FHIR resources are rendered ({@code render}). */
    public record Accepted(String text, Charset charset, Hl7Header header, Message message, String charsetField,
                           String ack, SupplyUsage usage, RenderSpec render) implements Translation {
        @Override
        public String ackCode() {
            return "AA";
        }

        /** The FHIR resources the usage renders to (built on each call: nothing on the ACK path asks). */
        public List<Resource> resources() {
            return FhirRenderer.resources(usage, render);
        }
    }

    /** AE: parsed, but the profile could not map it (unknown item, missing required field…). */
    public record NotMapped(String text, Charset charset, Hl7Header header, Message message, String charsetField,
                            String ack, MappingException error) implements Translation {
        @Override
        public String ackCode() {
            return "AE";
        }
    }

    /** AR: refused before mapping; {@code header} may be null. */
    public record Rejected(String text, Charset charset, Hl7Header header, Refusal refusal, String ack,
                           HL7Exception error) implements Translation {
        @Override
        public String ackCode() {
            return "AR";
        }
    }

    /**
     * @param declared charset the transport declared (HTTP Content-Type), or null to follow MSH-18
     */
    public Translation translate(InterfaceDefinition iface, byte[] raw, Charset declared) {
        Charset charset = declared != null ? declared : Hl7Charsets.detect(raw, iface.defaultCharset());
        String text = normalizeSegments(new String(raw, charset));
        Hl7Header header = Hl7Header.read(text);
        // hostile shapes (MSH-1/2 unusable, too many segments/repetitions/components, huge fields)
        // are refused by one linear scan before HAPI allocates anything for them
        HL7Exception shape = hl7.checkShape(text);
        if (shape != null) {
            return reject(text, charset, header, Refusal.SHAPE, shape);
        }
        if (header == null) {
            return reject(text, charset, null, Refusal.NOT_HL7, new HL7Exception(
                    "not an HL7 v2 message: it must start with an MSH segment", ErrorCode.SEGMENT_SEQUENCE_ERROR));
        }
        if (header.controlId() == null) {
            return reject(text, charset, header, Refusal.HEADER, error("MSH-10 (message control id) is missing",
                    ErrorCode.REQUIRED_FIELD_MISSING, 10));
        }
        HL7Exception badHeader = checkFields(header);
        if (badHeader != null) {
            return reject(text, charset, header, Refusal.HEADER, badHeader);
        }
        HL7Exception badSender = checkSender(iface, header);
        if (badSender != null) {
            return reject(text, charset, header, Refusal.SENDER, badSender);
        }
        String type = header.type();
        UsageMapper mapper = iface.mapper();
        Message message;
        try {
            // into the model of the profile's version: its paths were checked against that structure,
            // and a sender that raises MSH-12 keeps mapping the same way
            message = hl7.parse(text, mapper.profile().hl7Version());
        } catch (HL7Exception e) {
            return reject(text, charset, header, Refusal.PARSE, e);
        }
        if (!mapper.accepts(type)) {
            return reject(text, charset, header, Refusal.MESSAGE_TYPE, error("message type " + type
                    + " is not taken by interface " + iface.id() + " (it takes "
                    + mapper.profile().accept().messageTypes() + ")", ErrorCode.UNSUPPORTED_MESSAGE_TYPE, 9));
        }
        String charsetField = Hl7Support.charsetField(message);
        SupplyUsage usage;
        try {
            usage = mapper.map(message, header.sender(), header.controlId(), type);
            usage = checks.check(usage, mapper.profile().safetyPolicy(), null, mapper::devicePath);
        } catch (MappingException e) {
            HL7Exception error = new HL7Exception(e.getMessage(), e.errorCode());
            error.setLocation(location(e));
            return new NotMapped(text, charset, header, message, charsetField,
                    hl7.ack(message, AcknowledgmentCode.AE, error, charsetField), e);
        }
        String ack = hl7.ack(message, AcknowledgmentCode.AA, null, charsetField);
        if (ack.length() > Journal.MAX_ACK) {
            return reject(text, charset, header, Refusal.ACK_TOO_LONG, error("the MSH fields echoed in the ACK are"
                    + " longer than " + Journal.MAX_ACK + " characters", ErrorCode.DATA_TYPE_ERROR, 5));
        }
        // rendering is total on what the mapper produces (FhirRenderingTotalityTest), so an AA never
        // meets a usage that cannot be rendered at delivery
        return new Accepted(text, charset, header, message, charsetField, ack, usage, RenderSpec.current(mapper.profile()));
    }

    private Rejected reject(String text, Charset charset, Hl7Header header, Refusal refusal, HL7Exception error) {
        return new Rejected(text, charset, header, refusal, hl7.nack(header, AcknowledgmentCode.AR, error), error);
    }

    /** What the journal's columns allow of the MSH fields that identify a message. Null when all is well. */
    private static HL7Exception checkFields(Hl7Header header) {
        HL7Exception e = field(header.controlId(), MAX_CONTROL_ID, "MSH-10 (message control id)", 10);
        if (e == null) {
            e = field(header.sendingApplication(), MAX_SENDER_PART, "MSH-3 (sending application)", 3);
        }
        if (e == null) {
            e = field(header.sendingFacility(), MAX_SENDER_PART, "MSH-4 (sending facility)", 4);
        }
        return e;
    }

    /** The interface's {@code accept.senders}; null when the sender is accepted. */
    private static HL7Exception checkSender(InterfaceDefinition iface, Hl7Header header) {
        MappingProfile.Accept accept = iface.mapper().profile().accept();
        if (accept.acceptsSender(header.sender())) {
            return null;
        }
        String application = header.sender().substring(0, header.sender().indexOf('^') + 1);
        boolean applicationKnown = accept.senders().stream().anyMatch(s -> s.startsWith(application));
        return error("sender " + header.sender().replace('^', '/') + " (MSH-3/MSH-4) is not accepted on interface "
                + iface.id(), ErrorCode.UNKNOWN_KEY_IDENTIFIER, applicationKnown ? 4 : 3);
    }

    private static HL7Exception field(String value, int max, String name, int field) {
        if (value == null) {
            return null;
        }
        if (value.length() > max) {
            return error(name + " is longer than " + max + " characters", ErrorCode.DATA_TYPE_ERROR, field);
        }
        if (value.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            return error(name + " contains control characters", ErrorCode.DATA_TYPE_ERROR, field);
        }
        return null;
    }

    static HL7Exception error(String text, ErrorCode code, int mshField) {
        HL7Exception e = new HL7Exception(text, code);
        e.setLocation(new Location().withSegmentName("MSH").withSegmentRepetition(1).withField(mshField));
        return e;
    }

    private static Location location(MappingException e) {
        String path = e.path();
        String last = path.substring(path.lastIndexOf('/') + 1);
        String[] parts = last.replaceAll("\\(\\d+\\)", "").split("-");
        Location location = new Location();
        if (parts.length >= 2 && parts[0].matches("[A-Z][A-Z0-9]{2}")) {
            location = location.withSegmentName(parts[0]).withSegmentRepetition(Math.max(1, e.lineIndex()));
            try {
                location = location.withField(Integer.parseInt(parts[1]));
                if (parts.length >= 3) {
                    location = location.withComponent(Integer.parseInt(parts[2]));
                }
            } catch (NumberFormatException ignored) {
                // a path we cannot point into still names the segment
            }
        }
        return location;
    }

    /** Segments end with CR on the wire; HTTP senders and files often use LF or CRLF. */
    public static String normalizeSegments(String text) {
        if (text.indexOf('\n') < 0) {
            return text;
        }
        return text.replace("\r\n", "\r").replace('\n', '\r');
    }
}
