package org.supplyhub.hl7;

import ca.uhn.hl7v2.AcknowledgmentCode;
import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.ErrorCode;
import ca.uhn.hl7v2.HL7Exception;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.model.Segment;
import ca.uhn.hl7v2.Version;
import ca.uhn.hl7v2.parser.CanonicalModelClassFactory;
import ca.uhn.hl7v2.parser.DefaultModelClassFactory;
import ca.uhn.hl7v2.parser.ModelClassFactory;
import ca.uhn.hl7v2.model.v251.message.ACK;
import ca.uhn.hl7v2.model.v251.segment.MSH;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.util.idgenerator.IDGenerator;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.util.Calendar;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/** HAPI parsing and ACK building, shared by every interface. */
@Component
public class Hl7Support {

    private static final Set<String> VERSIONS = Set.of("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8");

    private final HapiContext context;
    /** One parser per thread: PipeParser fills a structure-definition cache (a plain HashMap) as it goes. */
    private final ThreadLocal<PipeParser> parsers;
    /** Per HL7 version, a context whose model is that version's, whatever MSH-12 says. */
    private final Map<String, HapiContext> versionContexts = new ConcurrentHashMap<>();
    /** Per thread, one parser per version (same reason as {@link #parsers}). */
    private final ThreadLocal<Map<String, PipeParser>> versionParsers = ThreadLocal.withInitial(HashMap::new);
    private final Hl7Limits limits;

    /** With the default limits (tools and tests outside Spring). */
    public Hl7Support() {
        this(Hl7Limits.DEFAULTS);
    }

    @org.springframework.beans.factory.annotation.Autowired
    public Hl7Support(Hl7Limits limits) {
        this.limits = limits;
        context = context(new SegmentClassCache());
        parsers = ThreadLocal.withInitial(() -> new PipeParser(context));
    }

    private HapiContext context(ModelClassFactory models) {
        HapiContext made = new DefaultHapiContext(models);
        // Structure is checked by the mapping, which names the field; HAPI's rule checks would only
        // reject real-world variations before the profile sees them.
        made.setValidationContext(ValidationContextFactory.noValidation());
        made.getParserConfiguration().setIdGenerator(context == null ? new AckIds() : context.getParserConfiguration().getIdGenerator());
        return made;
    }

    /**
     * Null if the message is within {@link Hl7Limits} and its MSH-1/MSH-2 are usable; else the error
     * (naming segment and field) to answer AR with. One linear scan: run it before {@link #parse}.
     */
    public HL7Exception checkShape(String er7) {
        return limits.check(er7);
    }

    /** Parses ER7 into the model of the version its MSH-12 names. Errors as {@link #parse(PipeParser, String)}. */
    public Message parse(String er7) throws HL7Exception {
        return parse(parsers.get(), er7);
    }

    /**
     * Parses ER7 into the model of HL7 {@code version} (e.g. {@code 2.8}) whatever version MSH-12
     * names, so a profile's paths, checked against that version's structure, find the same groups
     * in every message (a v2.5.1 DFT^P03 parsed as 2.8 has 2.8's groups). Errors as {@link #parse(String)}.
     *
     * @throws IllegalArgumentException for a version HAPI has no model for (a configuration error,
     *                                  checked when the profile loads)
     */
    public Message parse(String er7, String version) throws HL7Exception {
        Version v = Version.versionOf(version);
        if (v == null || !Version.availableVersions().contains(v)) {
            throw new IllegalArgumentException("no HAPI model for HL7 version " + version);
        }
        HapiContext versionContext = versionContexts.computeIfAbsent(v.getVersion(),
                key -> context(new CanonicalSegmentClassCache(key)));
        return parse(versionParsers.get().computeIfAbsent(v.getVersion(), key -> new PipeParser(versionContext)), er7);
    }

    /**
     * HAPI reports most structural problems with its default code 207 (application internal
     * error), which tells the sender "our fault, resend later"; they are the message's fault, so
     * they come out as 102 (data type error).
     */
    private static Message parse(PipeParser parser, String er7) throws HL7Exception {
        try {
            return parser.parse(er7);
        } catch (HL7Exception e) {
            if (e.getErrorCode() == ErrorCode.APPLICATION_INTERNAL_ERROR.getCode()) {
                e.setError(ErrorCode.DATA_TYPE_ERROR);
            }
            throw e;
        }
    }

    /** A new, empty message bound to this context (its id generator and parser). */
    public <T extends Message> T newMessage(Class<T> type) throws HL7Exception {
        return context.newMessage(type);
    }

    public String encode(Message message) throws HL7Exception {
        return parsers.get().encode(message);
    }

    /**
     * An ACK for a message HAPI parsed. It always uses the standard delimiters, whatever the sender
     * chose, so MSA-1 reads AA/AE/AR to any receiver (letters as delimiters would escape it).
     */
    public String ack(Message inbound, AcknowledgmentCode code, HL7Exception error, String charsetField) {
        try {
            Message ack = inbound.generateACK(code, clean(error));
            Terser terser = new Terser(ack);
            terser.set("/MSH-1", "|");
            terser.set("/MSH-2", "^~\\&");
            if (charsetField != null) {
                terser.set("/MSH-18", charsetField);
            }
            return escapeControls(parsers.get().encode(ack));
        } catch (HL7Exception | IOException e) {
            // generateACK only fails on a broken inbound MSH; answer from the header we read by hand
            return nack(null, code, error);
        }
    }

    /**
     * A NACK for a message HAPI could not parse (or that never got that far), built from the header
     * we could read, as HL7 v2.5.1 unless the sender's version is one we know.
     */
    public String nack(Hl7Header header, AcknowledgmentCode code, HL7Exception error) {
        try {
            ACK ack = new ACK(context.getModelClassFactory());
            ack.setParser(parsers.get());
            MSH msh = ack.getMSH();
            msh.getFieldSeparator().setValue("|");
            msh.getEncodingCharacters().setValue("^~\\&");
            msh.getDateTimeOfMessage().getTime().setValue(Calendar.getInstance());
            msh.getMessageType().getMessageCode().setValue("ACK");
            msh.getMessageType().getMessageStructure().setValue("ACK");
            msh.getMessageControlID().setValue(context.getParserConfiguration().getIdGenerator().getID());
            msh.getProcessingID().getProcessingID().setValue("P");
            msh.getVersionID().getVersionID().setValue("2.5.1");
            if (header != null) {
                msh.getSendingApplication().getNamespaceID().setValue(header.receivingApplication());
                msh.getSendingFacility().getNamespaceID().setValue(header.receivingFacility());
                msh.getReceivingApplication().getNamespaceID().setValue(header.sendingApplication());
                msh.getReceivingFacility().getNamespaceID().setValue(header.sendingFacility());
                msh.getMessageType().getTriggerEvent().setValue(header.triggerEvent());
                if (header.processingId() != null) {
                    msh.getProcessingID().getProcessingID().setValue(header.processingId());
                }
                if (header.version() != null && VERSIONS.contains(header.version())) {
                    msh.getVersionID().getVersionID().setValue(header.version());
                }
                ack.getMSA().getMessageControlID().setValue(header.controlId());
            }
            ack.getMSA().getAcknowledgmentCode().setValue(code.name());
            if (error != null) {
                clean(error).populateResponse(ack, code, 0);
            }
            return escapeControls(parsers.get().encode(ack));
        } catch (HL7Exception | IOException e) {
            throw new IllegalStateException("cannot build a NACK", e);
        }
    }

    /**
     * Control characters copied from the sender's fields (a raw 0x1C or 0x0B would end or restart
     * the MLLP frame) become HL7 hex escapes ({@code \X1C\}); CR stays, it ends each segment and
     * cannot occur inside a value read from a parsed message.
     */
    static String escapeControls(String er7) {
        int i = 0;
        while (i < er7.length() && !control(er7.charAt(i))) {
            i++;
        }
        if (i == er7.length()) {
            return er7;
        }
        StringBuilder out = new StringBuilder(er7.length() + 16).append(er7, 0, i);
        for (; i < er7.length(); i++) {
            char c = er7.charAt(i);
            if (control(c)) {
                out.append(String.format("\\X%02X\\", (int) c));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean control(char c) {
        return c < 0x20 && c != '\r' || c == 0x7f;
    }

    /** The error with its text on one line (a CR in ERR text would end the segment). */
    private static HL7Exception clean(HL7Exception error) {
        String text = error == null ? null : error.getMessageWithoutLocation();
        if (text == null || text.chars().noneMatch(c -> c < 0x20 || c == 0x7f)) {
            return error;
        }
        HL7Exception copy = new HL7Exception(text.replaceAll("[\\x00-\\x1f\\x7f]", " "),
                ErrorCode.errorCodeFor(error.getErrorCode()));
        copy.setLocation(error.getLocation());
        return copy;
    }

    /**
     * HAPI looks up a class for every z-segment (ZIM…) of every message and fails, through the class
     * loader each time; remembering the answer, including "none", takes that off the hot path.
     */
    static final class SegmentClassCache extends DefaultModelClassFactory {
        private final Map<String, Optional<Class<? extends Segment>>> segments = new ConcurrentHashMap<>();

        @Override
        public Class<? extends Segment> getSegmentClass(String name, String version) throws HL7Exception {
            return remembered(segments, version + "|" + name, () -> super.getSegmentClass(name, version));
        }
    }

    /** {@link SegmentClassCache} for a context that parses every message into one version's model. */
    static final class CanonicalSegmentClassCache extends CanonicalModelClassFactory {
        private final Map<String, Optional<Class<? extends Segment>>> segments = new ConcurrentHashMap<>();

        CanonicalSegmentClassCache(String version) {
            super(version);
        }

        @Override
        public Class<? extends Segment> getSegmentClass(String name, String version) throws HL7Exception {
            return remembered(segments, name, () -> super.getSegmentClass(name, version));
        }
    }

    private interface SegmentLookup {
        Class<? extends Segment> find() throws HL7Exception;
    }

    private static Class<? extends Segment> remembered(Map<String, Optional<Class<? extends Segment>>> cache,
                                                       String key, SegmentLookup lookup) throws HL7Exception {
        Optional<Class<? extends Segment>> known = cache.get(key);
        if (known == null) {
            known = Optional.ofNullable(lookup.find());
            cache.put(key, known);
        }
        return known.orElse(null);
    }

    /** ACK control ids: unique per process start and short enough for v2.3–2.5 (ST 20). */
    static final class AckIds implements IDGenerator {
        private final String prefix = "SH" + Long.toString(System.currentTimeMillis() / 1000, 36).toUpperCase();
        private final AtomicLong next = new AtomicLong();

        @Override
        public String getID() {
            return prefix + Long.toString(next.incrementAndGet(), 36).toUpperCase();
        }
    }
}
