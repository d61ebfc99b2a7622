package org.supplyhub.ingest;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.Location;
import ca.uhn.hl7v2.model.Message;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.IParser;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.stereotype.Service;
import org.supplyhub.journal.AuditLog;
import org.supplyhub.journal.DuplicateMessageException;
import org.supplyhub.journal.Journal;
import org.supplyhub.journal.JournalOutput;
import org.supplyhub.journal.MessageStatus;
import org.supplyhub.journal.ReceivedMessage;
import org.supplyhub.mapping.FhirMapper;
import org.supplyhub.mapping.MappingException;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.mapping.UsageMapper;

import java.nio.charset.Charset;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The intake pipeline shared by MLLP and HTTP: decode → resend check → parse → map → journal → ACK.
 * AA is built only for a message whose journal transaction committed. Logs carry interface and
 * control ids only, never message content.
 */
@Service
public class IntakeService {

    private static final Logger log = LoggerFactory.getLogger(IntakeService.class);

    private final InterfaceCatalog interfaces;
    private final Hl7Support hl7;
    private final Journal journal;
    private final AuditLog audit;
    private final ObjectMapper json;
    private final FhirContext fhir;
    private final MeterRegistry meters;
    private final Timer intakeTimer;
    private final ConcurrentHashMap<String, Counter> counters = new ConcurrentHashMap<>();

    public IntakeService(InterfaceCatalog interfaces, Hl7Support hl7, Journal journal, AuditLog audit, ObjectMapper json,
                         FhirContext fhir, MeterRegistry meters) {
        this.audit = audit;
        this.interfaces = interfaces;
        this.hl7 = hl7;
        this.journal = journal;
        this.json = json;
        this.fhir = fhir;
        this.meters = meters;
        this.intakeTimer = Timer.builder("hub.intake").description("Time from a received frame to its ACK")
                .publishPercentileHistogram().register(meters);
    }

    /**
     * Takes one message for an interface.
     *
     * @param declared charset the transport declared (HTTP Content-Type), or null to follow MSH-18
     * @param caller   who sent it (client id, certificate subject or peer address), for the journal
     */
    public IntakeResult receive(InterfaceDefinition iface, byte[] raw, Charset declared, String caller) {
        long started = System.nanoTime();
        IntakeResult result = processSafely(iface, raw, declared, caller);
        intakeTimer.record(System.nanoTime() - started, java.util.concurrent.TimeUnit.NANOSECONDS);
        counters.computeIfAbsent(iface.id() + "|" + result.ackCode(), k -> Counter.builder("hub.messages")
                .tag("interface", iface.id()).tag("ack", result.ackCode())
                .description("Messages answered, by interface and ACK code").register(meters)).increment();
        return result;
    }

    private IntakeResult processSafely(InterfaceDefinition iface, byte[] raw, Charset declared, String caller) {
        try {
            return process(iface, raw, declared, caller);
        } catch (RuntimeException e) {
            // the journal's resend lookup failed, or something unforeseen: never leave the sender without an answer
            return unexpected(iface, raw, declared, e);
        }
    }

    /** A frame over the size limit: AR, and only its head is kept. */
    public IntakeResult oversized(InterfaceDefinition iface, OversizedFrame frame, String caller) {
        Charset charset = Hl7Charsets.detect(frame.head(), iface.defaultCharset());
        Hl7Header header = Hl7Header.read(new String(frame.head(), charset));
        HL7Exception error = new HL7Exception("message of " + frame.length() + " bytes exceeds the limit of "
                + frame.limit() + " bytes; not processed", ErrorCode.DATA_TYPE_ERROR); // the message's fault, not 207
        log.warn("Interface {}: rejected a {}-byte frame (limit {}), control id {}", iface.id(), frame.length(),
                frame.limit(), header == null ? "?" : header.controlId());
        return reject(iface, frame.head(), charset, header, error, caller);
    }

    private IntakeResult process(InterfaceDefinition iface, byte[] raw, Charset declared, String caller) {
        Charset charset = declared != null ? declared : Hl7Charsets.detect(raw, iface.defaultCharset());
        String text = normalizeSegments(new String(raw, charset));
        Hl7Header header = Hl7Header.read(text);
        // hostile shapes (MSH-1/2 unusable, too many segments/repetitions/components, huge fields)
        // are refused by one linear scan before HAPI allocates anything for them
        HL7Exception shape = hl7.checkShape(text);
        if (shape != null) {
            return reject(iface, raw, charset, header, shape, caller);
        }
        if (header == null) {
            return reject(iface, raw, charset, null,
                    new HL7Exception("not an HL7 v2 message: it must start with an MSH segment",
                            ErrorCode.SEGMENT_SEQUENCE_ERROR), caller);
        }
        if (header.controlId() == null) {
            HL7Exception e = new HL7Exception("MSH-10 (message control id) is missing", ErrorCode.REQUIRED_FIELD_MISSING);
            e.setLocation(new Location().withSegmentName("MSH").withSegmentRepetition(1).withField(10));
            return reject(iface, raw, charset, header, e, caller);
        }
        // Resends are caught by the journal's unique (sender, control id) when they are written: a
        // lookup before every message would cost every message a round trip for the rare resend.
        String dedupKey = header.sender() + "|" + header.controlId();
        Message message;
        try {
            message = hl7.parse(text);
        } catch (HL7Exception e) {
            return reject(iface, raw, charset, header, e, caller);
        }
        String type = header.type();
        UsageMapper mapper = iface.mapper();
        if (!mapper.accepts(type)) {
            HL7Exception e = new HL7Exception("message type " + type + " is not taken by interface " + iface.id()
                    + " (it takes " + mapper.profile().accept().messageTypes() + ")", ErrorCode.UNSUPPORTED_MESSAGE_TYPE);
            e.setLocation(new Location().withSegmentName("MSH").withSegmentRepetition(1).withField(9));
            return reject(iface, raw, charset, header, e, caller);
        }
        String charsetField = msh18(message);
        SupplyUsage usage;
        List<Resource> resources;
        try {
            usage = mapper.map(message, header.sender(), header.controlId(), type);
            resources = FhirMapper.toFhir(usage, mapper.profile().systems());
        } catch (MappingException e) {
            return mappingError(iface, raw, charset, header, message, charsetField, e, caller);
        }
        String ack = hl7.ack(message, AcknowledgmentCode.AA, null, charsetField);
        ReceivedMessage received = new ReceivedMessage(iface.id(), header.sender(), header.controlId(), type,
                header.version(), MessageStatus.ACCEPTED, Instant.now(), caller, charset.name(), raw, "AA", ack, null);
        try {
            journal.accept(new Journal.Entry(received, toJson(usage), usage.lines().size(), outputs(resources),
                    iface.destinations(), orderingKey(usage)));
        } catch (DuplicateMessageException e) {
            // the same message raced in on another connection or node: answer what that one got
            return journal.originalAck(dedupKey).map(a -> resend(iface, header, a, charset, caller))
                    .orElseGet(() -> storageFailure(iface, header, message, charsetField, charset, e));
        } catch (DataAccessException e) {
            return storageFailure(iface, header, message, charsetField, charset, e);
        }
        log.debug("Interface {}: accepted {} ({} lines)", iface.id(), header.controlId(), usage.lines().size());
        return new IntakeResult("AA", ack, charset, MessageStatus.ACCEPTED, false);
    }

    private IntakeResult unexpected(InterfaceDefinition iface, byte[] raw, Charset declared, RuntimeException e) {
        Charset charset = declared != null ? declared : Hl7Charsets.detect(raw, iface.defaultCharset());
        Hl7Header header = Hl7Header.read(normalizeSegments(new String(raw, charset)));
        boolean storage = e instanceof DataAccessException;
        if (storage) {
            log.error("Interface {}: journal unavailable, {} not stored: {}", iface.id(),
                    header == null ? "?" : header.controlId(), e.getClass().getSimpleName());
        } else {
            log.error("Interface {}: intake failed for {}", iface.id(), header == null ? "?" : header.controlId(), e);
        }
        HL7Exception error = new HL7Exception(storage
                ? "the hub could not store the message; it was not accepted, resend it later"
                : "internal error; the message was not accepted, resend it later", ErrorCode.APPLICATION_INTERNAL_ERROR);
        return new IntakeResult("AE", hl7.nack(header, AcknowledgmentCode.AE, error), charset, null, false);
    }

    private IntakeResult mappingError(InterfaceDefinition iface, byte[] raw, Charset charset, Hl7Header header,
                                      Message message, String charsetField, MappingException e, String caller) {
        HL7Exception error = new HL7Exception(e.getMessage(), e.errorCode());
        error.setLocation(location(e));
        String ack = hl7.ack(message, AcknowledgmentCode.AE, error, charsetField);
        log.info("Interface {}: {} not mapped ({}): {}", iface.id(), header.controlId(), e.errorCode(), e.path());
        ReceivedMessage received = new ReceivedMessage(iface.id(), header.sender(), header.controlId(), header.type(),
                header.version(), MessageStatus.ERROR, Instant.now(), caller, charset.name(), raw, "AE", ack, e.getMessage());
        try {
            journal.record(received);
        } catch (DuplicateMessageException dup) {
            return journal.originalAck(header.sender() + "|" + header.controlId())
                    .map(a -> resend(iface, header, a, charset, caller)).orElse(new IntakeResult("AE", ack, charset, null, false));
        } catch (DataAccessException storage) {
            return storageFailure(iface, header, message, charsetField, charset, storage);
        }
        return new IntakeResult("AE", ack, charset, MessageStatus.ERROR, false);
    }

    private IntakeResult reject(InterfaceDefinition iface, byte[] raw, Charset charset, Hl7Header header,
                                HL7Exception error, String caller) {
        String ack = hl7.nack(header, AcknowledgmentCode.AR, error);
        String controlId = header == null ? null : header.controlId();
        log.info("Interface {}: rejected {} ({})", iface.id(), controlId == null ? "a message without control id" : controlId,
                error.getError() == null ? "error" : error.getError());
        ReceivedMessage received = new ReceivedMessage(iface.id(), header == null ? "?" : header.sender(), controlId,
                header == null ? null : header.type(), header == null ? null : header.version(), MessageStatus.REJECTED,
                Instant.now(), caller, charset.name(), raw, "AR", ack, error.getMessage());
        try {
            journal.record(received);
        } catch (RuntimeException storage) {
            // AR promises nothing was taken, so it stays true without the forensic copy
            log.warn("Interface {}: could not journal a rejected message: {}", iface.id(), storage.getClass().getSimpleName());
            return new IntakeResult("AR", ack, charset, null, false);
        }
        return new IntakeResult("AR", ack, charset, MessageStatus.REJECTED, false);
    }

    private IntakeResult resend(InterfaceDefinition iface, Hl7Header header, String originalAck, Charset charset,
                                String caller) {
        log.debug("Interface {}: {} is a resend; answering the original ACK", iface.id(), header.controlId());
        String code = originalAck.contains("\rMSA|AA") ? "AA" : originalAck.contains("\rMSA|AE") ? "AE" : "AR";
        audit.record(caller, "INGEST", iface.id(), "resend", code, "control id " + header.controlId());
        return new IntakeResult(code, originalAck, charset, null, true);
    }

    /** Nothing was stored, so the answer must not be AA: AE with ERR-3 207, and the sender may resend. */
    private IntakeResult storageFailure(InterfaceDefinition iface, Hl7Header header, Message message,
                                        String charsetField, Charset charset, Exception cause) {
        log.error("Interface {}: journal unavailable, {} not stored: {}", iface.id(), header.controlId(),
                cause.getClass().getSimpleName());
        HL7Exception error = new HL7Exception("the hub could not store the message; it was not accepted, resend it later",
                ErrorCode.APPLICATION_INTERNAL_ERROR);
        return new IntakeResult("AE", hl7.ack(message, AcknowledgmentCode.AE, error, charsetField), charset, null, false);
    }

    private List<JournalOutput> outputs(List<Resource> resources) {
        IParser parser = fhir.newJsonParser();
        List<JournalOutput> out = new ArrayList<>(resources.size());
        int line = 0;
        for (Resource r : resources) {
            if (r instanceof org.hl7.fhir.r4.model.SupplyDelivery) {
                line++; // each line starts with its SupplyDelivery
            }
            out.add(new JournalOutput(line, r.fhirType(), r.getIdElement().getIdPart(), parser.encodeResourceToString(r)));
        }
        return out;
    }

    private String toJson(SupplyUsage usage) {
        try {
            return json.writeValueAsString(usage);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("usage cannot be serialised", e);
        }
    }

    /** Deliveries for the same patient account go out in order. */
    private static String orderingKey(SupplyUsage usage) {
        SupplyUsage.Ref key = usage.account() != null ? usage.account() : usage.patient();
        return usage.interfaceId() + "|" + key.value();
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

    private static String msh18(Message message) {
        try {
            return new ca.uhn.hl7v2.util.Terser(message).get("/MSH-18");
        } catch (HL7Exception e) {
            return null;
        }
    }

    /** Segments end with CR on the wire; HTTP senders and files often use LF or CRLF. */
    static String normalizeSegments(String text) {
        if (text.indexOf('\n') < 0) {
            return text;
        }
        return text.replace("\r\n", "\r").replace('\n', '\r');
    }
}
