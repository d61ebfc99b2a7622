package org.supplyhub.ingest;

import org.supplyhub.config.RunningConfig;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.hl7.Hl7Support;
import org.supplyhub.hl7.Hl7Header;
import org.supplyhub.hl7.Hl7Charsets;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.model.Message;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessException;
import org.springframework.stereotype.Service;
import org.supplyhub.journal.AuditLog;
import org.supplyhub.journal.CommitOutcomeUnknownException;
import org.supplyhub.journal.ReprocessConflictException;
import org.supplyhub.journal.UnstorableMessageException;
import org.supplyhub.mapping.MappingProfile;
import org.supplyhub.journal.DeviceUse;
import org.supplyhub.journal.DuplicateMessageException;
import org.supplyhub.journal.Journal;
import org.supplyhub.journal.MessageStatus;
import org.supplyhub.journal.ReceivedMessage;
import org.supplyhub.mapping.RenderSpec;
import org.supplyhub.mapping.MappingException;
import org.supplyhub.mapping.SupplyUsage;
import org.supplyhub.safety.ImplantChecks;

import java.nio.charset.Charset;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The intake pipeline shared by MLLP and HTTP: decode → resend check → parse → map → journal → ACK.
 * AA is built only for a message whose journal transaction committed. Logs carry interface and
 * control ids only, never message content.
 */
@Service
public class IntakeService {

    private static final Logger log = LoggerFactory.getLogger(IntakeService.class);

    private final RunningConfig interfaces;
    private final Hl7Support hl7;
    private final MessageTranslator translator;
    private final Journal journal;
    private final AuditLog audit;
    /** The usage's writer, its serializer found once rather than looked up for every message. */
    private final ObjectWriter usageWriter;
    private final MeterRegistry meters;
    private final Timer intakeTimer;
    private final ConcurrentHashMap<String, Map<String, Counter>> counters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> reused = new ConcurrentHashMap<>();

    static final String NOT_STORED = "the hub could not store the message; it was not accepted, resend it later";
    static final String OUTCOME_UNKNOWN = "the hub lost the database while storing the message, so the outcome"
            + " is unknown; resend it (a resend of a stored message is answered from the journal)";

    private final ImplantChecks checks;

    public IntakeService(RunningConfig interfaces, Hl7Support hl7, Journal journal, AuditLog audit, ObjectMapper json,
                         MeterRegistry meters, ImplantChecks checks) {
        this.audit = audit;
        this.interfaces = interfaces;
        this.hl7 = hl7;
        this.checks = checks;
        this.translator = new MessageTranslator(hl7, checks);
        this.journal = journal;
        this.usageWriter = json.writerFor(SupplyUsage.class);
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
        counter(iface.id(), result.ackCode()).increment();
        return result;
    }

    /** {@code hub.messages{interface,ack}}: two map lookups, no key built per message. */
    private Counter counter(String interfaceId, String ackCode) {
        Map<String, Counter> byCode = counters.get(interfaceId);
        if (byCode == null) {
            byCode = counters.computeIfAbsent(interfaceId, id -> new ConcurrentHashMap<>());
        }
        Counter counter = byCode.get(ackCode);
        return counter != null ? counter : byCode.computeIfAbsent(ackCode, code -> Counter.builder("hub.messages")
                .tag("interface", interfaceId).tag("ack", code)
                .description("Messages answered, by interface and ACK code").register(meters));
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

    /**
     * A frame the decoder refused for how it arrived. Over the hub-wide memory budget (BUSY) is the
     * hub's state, not the message's: AE with ERR-3 207, the hub's "resend later" (as for a journal
     * outage), since many senders treat AR as final and drop the message; nothing is journaled, as
     * nothing was taken. No CR after FS is the sender's framing: AR.
     */
    public IntakeResult refused(InterfaceDefinition iface, RefusedFrame frame, String caller) {
        Charset charset = Hl7Charsets.detect(frame.head(), iface.defaultCharset());
        Hl7Header header = Hl7Header.read(new String(frame.head(), charset));
        boolean busy = frame.reason() == RefusedFrame.Reason.BUSY;
        HL7Exception error = new HL7Exception(frame.reason().text(),
                busy ? ErrorCode.APPLICATION_INTERNAL_ERROR : ErrorCode.DATA_TYPE_ERROR);
        log.warn("Interface {}: refused a {}-byte frame ({}), control id {}", iface.id(), frame.length(),
                frame.reason(), header == null ? "?" : header.controlId());
        meters.counter("hub.mllp.frames.refused", "interface", iface.id(), "reason", frame.reason().name()).increment();
        if (busy) {
            return new IntakeResult("AE", hl7.nack(header, AcknowledgmentCode.AE, error), charset, null, false);
        }
        return reject(iface, frame.head(), charset, header, error, caller);
    }

    private IntakeResult process(InterfaceDefinition iface, byte[] raw, Charset declared, String caller) {
        MessageTranslator.Translation translation = translator.translate(iface, raw, declared);
        if (translation instanceof MessageTranslator.Accepted a) {
            return accept(iface, raw, a, caller);
        }
        if (translation instanceof MessageTranslator.NotMapped n) {
            return mappingError(iface, raw, n, caller);
        }
        MessageTranslator.Rejected r = (MessageTranslator.Rejected) translation;
        if (r.refusal() == MessageTranslator.Refusal.SENDER) {
            audit.record(caller, "SENDER_REFUSED", iface.id(), "control id " + r.header().controlId(), "AR",
                    "sender is not among the interface's accept.senders");
        }
        return rejected(iface, raw, r.charset(), r.header(), r.error(), r.ack(), caller);
    }

    private IntakeResult accept(InterfaceDefinition iface, byte[] raw, MessageTranslator.Accepted a, String caller) {
        Hl7Header header = a.header();
        Charset charset = a.charset();
        SupplyUsage usage = a.usage();
        // Resends are caught by the journal's unique (interface, sender, control id) when they are
        // written: a lookup before every message would cost every message a round trip for the rare resend.
        String hash = contentHash(a.text());
        ReceivedMessage received = ReceivedMessage.received(iface.id(), Instant.now(), caller, charset.name(), raw)
                .header(header.sender(), header.controlId(), header.type(), header.version()).contentHash(hash)
                .keyedByContent(reusesControlIds(iface))
                .answered(MessageStatus.ACCEPTED, "AA", a.ack(), null);
        try {
            journal.accept(new Journal.Entry(received, toJson(usage, a.render()), usage.lines().size(),
                    destinations(iface, usage), orderingKey(usage), DeviceUse.of(usage), usage));
        } catch (DuplicateMessageException e) {
            // a resend (maybe racing in on another connection or node), or a control id used again
            return conflict(iface, header, e.existing(), hash, raw, charset, caller);
        } catch (UnstorableMessageException e) {
            return unstorable(iface, raw, charset, header, caller, e);
        } catch (DataAccessException e) {
            return storageFailure(iface, header, a.message(), a.charsetField(), charset, e);
        }
        log.debug("Interface {}: accepted {} ({} lines)", iface.id(), header.controlId(), usage.lines().size());
        countFlags(iface.id(), usage);
        return new IntakeResult("AA", a.ack(), charset, MessageStatus.ACCEPTED, false);
    }

    /**
     * The key is held by an ACCEPTED message. The same content (see {@link #contentHash}) is a
     * resend and gets the original ACK; other content reusing the control id is refused.
     */
    private IntakeResult conflict(InterfaceDefinition iface, Hl7Header header, Journal.Existing existing, String hash,
                                  byte[] raw, Charset charset, String caller) {
        if (existing.contentHash() == null || existing.contentHash().equals(hash)) {
            return resend(iface, header, existing.ack(), charset, caller);
        }
        reused.computeIfAbsent(iface.id(), id -> Counter.builder("hub.control.id.reused").tag("interface", id)
                .description("Messages refused because their control id was used before for different content")
                .register(meters)).increment();
        log.warn("Interface {}: control id {} reused with different content; refused", iface.id(), header.controlId());
        audit.record(caller, "CONTROL_ID_REUSED", iface.id(), "control id " + header.controlId(), "AR",
                "different content than message " + existing.id());
        return reject(iface, raw, charset, header, MessageTranslator.error("control id " + header.controlId()
                + " reused with different content; not processed", ErrorCode.DUPLICATE_KEY_IDENTIFIER, 10), caller);
    }

    private IntakeResult unexpected(InterfaceDefinition iface, byte[] raw, Charset declared, RuntimeException e) {
        Charset charset = declared != null ? declared : Hl7Charsets.detect(raw, iface.defaultCharset());
        Hl7Header header = Hl7Header.read(normalizeSegments(new String(raw, charset)));
        String controlId = header == null ? "?" : header.controlId();
        // the class and where it was thrown, never the text: it may quote the message or the database's values
        StackTraceElement at = e.getStackTrace().length == 0 ? null : e.getStackTrace()[0];
        log.error("Interface {}: intake failed for {}: {} at {}", iface.id(), controlId, e.getClass().getName(), at);
        HL7Exception error = new HL7Exception(e instanceof CommitOutcomeUnknownException ? OUTCOME_UNKNOWN
                : e instanceof DataAccessException ? NOT_STORED
                : "internal error; the message was not accepted, resend it later", ErrorCode.APPLICATION_INTERNAL_ERROR);
        return new IntakeResult("AE", hl7.nack(header, AcknowledgmentCode.AE, error), charset, null, false);
    }

    private IntakeResult mappingError(InterfaceDefinition iface, byte[] raw, MessageTranslator.NotMapped n,
                                      String caller) {
        Hl7Header header = n.header();
        Charset charset = n.charset();
        MappingException e = n.error();
        String hash = contentHash(n.text());
        log.info("Interface {}: {} not mapped ({}): {}", iface.id(), header.controlId(), e.errorCode(), e.path());
        ReceivedMessage received = ReceivedMessage.received(iface.id(), Instant.now(), caller, charset.name(), raw)
                .header(header.sender(), header.controlId(), header.type(), header.version()).contentHash(hash)
                .keyedByContent(reusesControlIds(iface))
                .answered(MessageStatus.ERROR, "AE", n.ack(), e.getMessage());
        try {
            journal.record(received);
        } catch (DuplicateMessageException dup) {
            return conflict(iface, header, dup.existing(), hash, raw, charset, caller);
        } catch (UnstorableMessageException unstorable) {
            return unstorable(iface, raw, charset, header, caller, unstorable);
        } catch (DataAccessException storage) {
            return storageFailure(iface, header, n.message(), n.charsetField(), charset, storage);
        }
        return new IntakeResult("AE", n.ack(), charset, MessageStatus.ERROR, false);
    }

    /** The sender reuses control ids (the profile says): a message is MSH-10 and its content. */
    private static boolean reusesControlIds(InterfaceDefinition iface) {
        return iface.mapper().profile().accept().controlIdsAreReused();
    }

    /** The database refused the message's content although it was bounded: a message problem, never "resend later". */
    private IntakeResult unstorable(InterfaceDefinition iface, byte[] raw, Charset charset, Hl7Header header,
                                    String caller, UnstorableMessageException e) {
        log.warn("Interface {}: {} could not be journaled as sent: {}", iface.id(), header.controlId(), e.getMessage());
        return reject(iface, raw, charset, header, new HL7Exception("the message could not be stored as sent;"
                + " it was not accepted", ErrorCode.DATA_TYPE_ERROR), caller);
    }

    private IntakeResult reject(InterfaceDefinition iface, byte[] raw, Charset charset, Hl7Header header,
                                HL7Exception error, String caller) {
        return rejected(iface, raw, charset, header, error, hl7.nack(header, AcknowledgmentCode.AR, error), caller);
    }

    private IntakeResult rejected(InterfaceDefinition iface, byte[] raw, Charset charset, Hl7Header header,
                                  HL7Exception error, String ack, String caller) {
        String controlId = header == null ? null : header.controlId();
        log.info("Interface {}: rejected {} ({})", iface.id(), controlId == null ? "a message without control id" : controlId,
                error.getError() == null ? "error" : error.getError());
        ReceivedMessage received = ReceivedMessage.received(iface.id(), Instant.now(), caller, charset.name(), raw)
                .header(header == null ? "?" : header.sender(), controlId, header == null ? null : header.type(),
                        header == null ? null : header.version())
                .answered(MessageStatus.REJECTED, "AR", ack, error.getMessage());
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

    /**
     * Not known to be stored, so the answer must not be AA: AE with ERR-3 207, and the sender resends.
     * Whether the message may have been stored anyway (the commit's outcome is unknown) is said, as a
     * resend of a stored message is answered from the journal.
     */
    private IntakeResult storageFailure(InterfaceDefinition iface, Hl7Header header, Message message,
                                        String charsetField, Charset charset, DataAccessException cause) {
        boolean unknown = cause instanceof CommitOutcomeUnknownException;
        log.error("Interface {}: journal unavailable, {} {}: {}", iface.id(), header.controlId(),
                unknown ? "outcome unknown" : "not stored", cause.getClass().getSimpleName());
        HL7Exception error = new HL7Exception(unknown ? OUTCOME_UNKNOWN : NOT_STORED, ErrorCode.APPLICATION_INTERNAL_ERROR);
        return new IntakeResult("AE", hl7.ack(message, AcknowledgmentCode.AE, error, charsetField), charset, null, false);
    }

    /** What became of a reprocess request. */
    public record Reprocessed(Outcome outcome, long messageId, Long revisionId, String detail) {
        public enum Outcome { ACCEPTED, STILL_FAILING, CONFLICT, NOT_FOUND }
    }

    /**
     * Maps a journaled message's raw bytes again with the interface's current profile and journals
     * the result as a new ACCEPTED revision linked to the original (which it supersedes, taking over
     * its resend key). An ERROR message becomes ACCEPTED with its outbox rows. An ACCEPTED message is
     * only revised while none of its deliveries went out (see {@link Journal#revise}); otherwise it
     * is refused, so no destination is charged twice. REJECTED messages are for the sender to resend.
     */
    public Reprocessed reprocess(long id) {
        Optional<Journal.Stored> found = journal.find(id);
        if (found.isEmpty()) {
            return new Reprocessed(Reprocessed.Outcome.NOT_FOUND, id, null, "no message " + id + " in the journal");
        }
        Journal.Stored stored = found.get();
        if (stored.purged()) {
            return new Reprocessed(Reprocessed.Outcome.CONFLICT, id, null, "the content of message " + id
                    + " was purged by retention: there is nothing left to map");
        }
        if (!stored.live()) {
            return new Reprocessed(Reprocessed.Outcome.CONFLICT, id, null, "message " + id
                    + " has been superseded by a later attempt; reprocess the latest one");
        }
        if (stored.status() == MessageStatus.REJECTED) {
            return new Reprocessed(Reprocessed.Outcome.CONFLICT, id, null, "message " + id
                    + " was rejected (AR); rejected messages are not reprocessed, the sender resends them");
        }
        Optional<InterfaceDefinition> configured = interfaces.find(stored.interfaceId());
        if (configured.isEmpty()) {
            return new Reprocessed(Reprocessed.Outcome.CONFLICT, id, null, "interface " + stored.interfaceId()
                    + " is no longer configured");
        }
        InterfaceDefinition iface = configured.get();
        String text = normalizeSegments(new String(stored.raw(), Charset.forName(stored.charset())));
        Hl7Header header = Hl7Header.read(text);
        try {
            Message message = hl7.parse(text, iface.mapper().profile().hl7Version());
            SupplyUsage usage = iface.mapper().map(message, header.sender(), header.controlId(), header.type());
            // its own earlier uses of a device (message id) are not "seen before"
            usage = checks.check(usage, iface.mapper().profile().safetyPolicy(), id, iface.mapper()::devicePath);
            String ack = hl7.ack(message, AcknowledgmentCode.AA, null, Hl7Support.charsetField(message));
            ReceivedMessage received = ReceivedMessage.received(iface.id(), Instant.now(), stored.caller(),
                            stored.charset(), stored.raw())
                    .header(stored.sender(), stored.controlId(), header.type(), header.version())
                    .contentHash(contentHash(text))
                    .keyedByContent(reusesControlIds(iface))
                    .answered(MessageStatus.ACCEPTED, "AA", ack, null);
            long revision = journal.revise(id, stored.status(), new Journal.Entry(received,
                    toJson(usage, RenderSpec.current(iface.mapper().profile())), usage.lines().size(),
                    destinations(iface, usage), orderingKey(usage), DeviceUse.of(usage), usage));
            countFlags(iface.id(), usage);
            log.info("Interface {}: message {} reprocessed as message {}", iface.id(), id, revision);
            return new Reprocessed(Reprocessed.Outcome.ACCEPTED, id, revision, "accepted as message " + revision);
        } catch (HL7Exception e) {
            return new Reprocessed(Reprocessed.Outcome.STILL_FAILING, id, null, "not parsed: " + e.getMessage());
        } catch (MappingException e) {
            return new Reprocessed(Reprocessed.Outcome.STILL_FAILING, id, null, "not mapped: " + e.getMessage());
        } catch (ReprocessConflictException e) {
            return new Reprocessed(Reprocessed.Outcome.CONFLICT, id, null, e.getMessage());
        }
    }

    /** {@code hub_implant_flags_total{check,interface}}: flags journaled, counted once their message committed. */
    private void countFlags(String interfaceId, SupplyUsage usage) {
        for (SupplyUsage.Flag f : usage.flags()) {
            meters.counter("hub.implant.flags", "check", f.check(), "interface", interfaceId).increment();
        }
    }

    /**
     * The canonical usage as journaled, with how its FHIR resources are rendered ({@link RenderSpec}):
     * they are not built here, but whenever something needs them (issue 16: encoding them before the
     * ACK took ~35 % of intake's CPU).
     */
    private String toJson(SupplyUsage usage, RenderSpec render) {
        try {
            return render.journal(usageWriter.writeValueAsString(usage));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("usage cannot be serialised", e);
        }
    }

    /** Deliveries for the same patient account go out in order. */
    /** A message whose every line the profile skips (filtered) is journaled with nothing to deliver. */
    private static List<String> destinations(InterfaceDefinition iface, SupplyUsage usage) {
        return usage.lines().isEmpty() ? List.of() : iface.destinations();
    }

    private static String orderingKey(SupplyUsage usage) {
        SupplyUsage.Ref key = usage.account() != null ? usage.account() : usage.patient();
        return usage.interfaceId() + "|" + key.value();
    }

    /**
     * SHA-256 of the message as sent, ignoring only what a resend may legitimately change: MSH-7
     * (date/time of message, which senders stamp per send), how segments are terminated (CR, LF or
     * CRLF — already normalised by {@link #normalizeSegments}), whitespace and empty segments around
     * and between segments, and empty trailing fields of a segment ({@code PID|1||X||} is {@code PID|1||X}).
     * Everything else — every other MSH field included — must be the same for a resend.
     */
    static String contentHash(String normalized) {
        // one pass over the text, no split or regex: it ran on every message (ContentHashTest keeps the
        // split-based form as the oracle this must equal)
        StringBuilder canonical = new StringBuilder(normalized.length());
        char separator = normalized.length() > 3 ? normalized.stripLeading().charAt(3) : '|';
        int length = normalized.length();
        int from = 0;
        while (from < length) {
            int cr = normalized.indexOf('\r', from);
            int end = cr < 0 ? length : cr;
            int start = from;
            from = end + 1;
            while (start < end && Character.isWhitespace(normalized.charAt(start))) {
                start++;
            }
            while (end > start && Character.isWhitespace(normalized.charAt(end - 1))) {
                end--;
            }
            if (start == end) {
                continue;
            }
            int segment = canonical.length();
            if (end - start > 3 && normalized.startsWith("MSH", start)) {
                appendWithoutMsh7(canonical, normalized, start, end, separator);
            } else {
                canonical.append(normalized, start, end);
            }
            int kept = canonical.length();
            while (kept > segment && canonical.charAt(kept - 1) == separator) {
                kept--;
            }
            canonical.setLength(kept);
            canonical.append('\r');
        }
        return Journal.sha256(canonical.toString());
    }

    /** An MSH segment with MSH-7 (the text between its 6th and 7th separators) left empty. */
    private static void appendWithoutMsh7(StringBuilder out, String text, int start, int end, char separator) {
        int sixth = start - 1;
        for (int n = 0; n < 6; n++) {
            sixth = text.indexOf(separator, sixth + 1);
            if (sixth < 0 || sixth >= end) {
                out.append(text, start, end); // fewer than seven fields: nothing to blank
                return;
            }
        }
        out.append(text, start, sixth + 1);
        int seventh = text.indexOf(separator, sixth + 1);
        if (seventh >= 0 && seventh < end) {
            out.append(text, seventh, end);
        }
    }

    /** Segments end with CR on the wire; HTTP senders and files often use LF or CRLF. */
    static String normalizeSegments(String text) {
        return MessageTranslator.normalizeSegments(text);
    }
}
