package org.supplyhub.hl7;

import ca.uhn.hl7v2.AbstractHL7Exception;
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
import ca.uhn.hl7v2.util.StringUtil;
import ca.uhn.hl7v2.util.Terser;
import ca.uhn.hl7v2.util.idgenerator.IDGenerator;
import ca.uhn.hl7v2.validation.ValidationContext;
import org.springframework.stereotype.Component;

import java.io.IOException;
import java.time.Clock;
import java.util.EnumMap;
import java.util.Calendar;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/** HAPI parsing and ACK building, shared by every interface. */
@Component
public class Hl7Support {

    private static final Set<String> VERSIONS = Set.of("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8");

    /**
     * HAPI's "no validation" rules ({@link TrimRules}: trims, no checks). Shared by every context, so an
     * ACK's model (which values its rules trim) is known from the parser alone; it has no state.
     */
    private static final ValidationContext NO_VALIDATION = TrimRules.INSTANCE;

    private final HapiContext context;
    /** One parser per thread: PipeParser fills a structure-definition cache (a plain HashMap) as it goes. */
    private final ThreadLocal<PipeParser> parsers;
    /** Per HL7 version, a context whose model is that version's, whatever MSH-12 says. */
    private final Map<String, HapiContext> versionContexts = new ConcurrentHashMap<>();
    /** Per thread, one parser per version (same reason as {@link #parsers}). */
    private final ThreadLocal<Map<String, PipeParser>> versionParsers = ThreadLocal.withInitial(HashMap::new);
    private final Hl7Limits limits;
    /** ACK control ids (MSH-10), shared by every version's context: HAPI's generateACK takes them from there too. */
    private final IDGenerator ackIds;
    /** MSH-7 of the ACKs built directly; HAPI's own path reads the system clock. */
    private final Clock clock;
    /** ACKs HAPI built because the direct builder could not be sure to match it, by reason. */
    private final Map<AckFallback, LongAdder> fallbacks = new EnumMap<>(AckFallback.class);

    /** With the default limits (tools and tests outside Spring). */
    public Hl7Support() {
        this(Hl7Limits.DEFAULTS);
    }

    @org.springframework.beans.factory.annotation.Autowired
    public Hl7Support(Hl7Limits limits) {
        this(limits, new AckIds(), Hl7Timestamp.SYSTEM);
    }

    /** With a given ACK id generator and clock (tests pin both to compare ACKs byte for byte). */
    Hl7Support(Hl7Limits limits, IDGenerator ackIds, Clock clock) {
        this.limits = limits;
        this.ackIds = ackIds;
        this.clock = clock;
        for (AckFallback reason : AckFallback.values()) {
            fallbacks.put(reason, new LongAdder());
        }
        context = context(new SegmentClassCache());
        parsers = ThreadLocal.withInitial(() -> new Er7Parser(context, NO_VALIDATION));
    }

    private HapiContext context(ModelClassFactory models) {
        HapiContext made = new DefaultHapiContext(models);
        // Structure is checked by the mapping, which names the field; HAPI's rule checks would only
        // reject real-world variations before the profile sees them.
        made.setValidationContext(NO_VALIDATION);
        made.getParserConfiguration().setIdGenerator(ackIds);
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
        return parse(versionParsers.get().computeIfAbsent(v.getVersion(), key -> new Er7Parser(versionContext, NO_VALIDATION)), er7);
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
     * Written directly ({@link AckBuilder}), byte for byte what HAPI's {@code generateACK} + encode
     * would send; HAPI builds it when a cheap check finds a case the builder does not reproduce
     * ({@link AckFallback}, counted in {@link #ackFallbacks()}).
     */
    public String ack(Message inbound, AcknowledgmentCode code, HL7Exception error, String charsetField) {
        HL7Exception cleaned = clean(error);
        Direct direct = direct(inbound, code, cleaned);
        if (direct.fallback() != null) {
            fallbacks.get(direct.fallback()).increment();
            return hapiAck(inbound, code, cleaned, error, charsetField);
        }
        try {
            return directAck(inbound, direct.model(), code, cleaned, charsetField);
        } catch (HL7Exception | IOException e) {
            // as on HAPI's path: only a broken inbound MSH or id generator gets here
            return nack(null, code, error);
        }
    }

    /** Why HAPI, not {@link AckBuilder}, writes an ACK. */
    public enum AckFallback {
        /** The message has no parser, or one made outside this class: its ACK model is not known. */
        FOREIGN_PARSER,
        /** HAPI would not instantiate one of the standard v2.3–v2.8 ACK classes (e.g. a generic message). */
        UNKNOWN_ACK_MODEL,
        /** No acknowledgment code: HAPI's own failure is kept as it is. */
        NO_CODE,
        /** The error already holds a response message (HAPI answers with that one). */
        ERROR_HAS_RESPONSE,
        /** The error has no error code, or is a class that changes how HAPI fills ERR. */
        UNUSUAL_ERROR,
        /** NACK only: the default locale's calendar (HAPI's MSH-7 there) is not Gregorian (e.g. th-TH). */
        NON_GREGORIAN_LOCALE
    }

    /** How many ACKs HAPI wrote instead of {@link AckBuilder}, by reason (all zero in normal operation). */
    public Map<AckFallback, Long> ackFallbacks() {
        Map<AckFallback, Long> counts = new EnumMap<>(AckFallback.class);
        fallbacks.forEach((reason, count) -> counts.put(reason, count.sum()));
        return counts;
    }

    /** Either the ACK model HAPI would fill, or why the builder must not be used. */
    record Direct(AckModel model, AckFallback fallback) {
    }

    /** The explicit check that decides the path: cheap lookups only, no exception is relied on. */
    Direct direct(Message inbound, AcknowledgmentCode code, HL7Exception cleaned) {
        if (code == null) {
            return new Direct(null, AckFallback.NO_CODE);
        }
        AckFallback errorFallback = errorFallback(cleaned);
        if (errorFallback != null) {
            return new Direct(null, errorFallback);
        }
        if (!(inbound.getParser() != null && inbound.getParser().getFactory() instanceof AckModels models)
                || inbound.getParser().getValidationContext() != NO_VALIDATION) {
            return new Direct(null, AckFallback.FOREIGN_PARSER);
        }
        AckModel model = models.ackModel(inbound.getVersion());
        return model == null ? new Direct(null, AckFallback.UNKNOWN_ACK_MODEL) : new Direct(model, null);
    }

    /** Why an error is one {@link AckBuilder} does not fill ERR for as HAPI would; null if it can. */
    private static AckFallback errorFallback(HL7Exception cleaned) {
        if (cleaned == null) {
            return null;
        }
        if (cleaned.getResponseMessage() != null) {
            return AckFallback.ERROR_HAS_RESPONSE;
        }
        if (cleaned.getError() == null || !STANDARD_POPULATE.get(cleaned.getClass())) {
            return AckFallback.UNUSUAL_ERROR;
        }
        return null;
    }

    /**
     * Whether {@code Calendar.getInstance()} (the NACK's MSH-7 on HAPI's path) is Gregorian in this
     * locale; a Buddhist or Japanese imperial calendar would number the year differently.
     */
    private static boolean gregorian(Locale locale) {
        return GREGORIAN.computeIfAbsent(locale, l -> Calendar.getInstance(l).getClass() == java.util.GregorianCalendar.class); // BuddhistCalendar extends it
    }

    private static final Map<Locale, Boolean> GREGORIAN = new ConcurrentHashMap<>();

    /**
     * MSH-18 (first repetition, first component) of a parsed message, as {@code new
     * Terser(message).get("/MSH-18")} reads it, without parsing a path; null if absent.
     */
    public static String charsetField(Message message) {
        try {
            return Terser.get((Segment) message.get("MSH"), 18, 0, 1, 1);
        } catch (HL7Exception e) {
            return null;
        }
    }

    /** What {@link #ack} writes when {@link #direct} allows it. */
    String directAck(Message inbound, AckModel model, AcknowledgmentCode code, HL7Exception cleaned,
                     String charsetField) throws HL7Exception, IOException {
        // the same reads of the inbound MSH as AbstractMessage.fillResponseHeader, in its order
        Segment mshIn = (Segment) inbound.get("MSH");
        String processingId = Terser.get(mshIn, 11, 0, 1, 1);
        String timestamp = Hl7Timestamp.now(clock);
        String triggerEvent = Terser.get(mshIn, 9, 0, 2, 1);
        String controlId = inbound.getParser().getParserConfiguration().getIdGenerator().getID();
        String version = Terser.get(mshIn, 12, 0, 1, 1);
        if (StringUtil.isBlank(version)) {
            version = Version.highestAvailableVersionOrDefault().getVersion();
        }
        AckBuilder.Header header = new AckBuilder.Header(Terser.get(mshIn, 5, 0, 1, 1), Terser.get(mshIn, 6, 0, 1, 1),
                Terser.get(mshIn, 3, 0, 1, 1), Terser.get(mshIn, 4, 0, 1, 1), timestamp, triggerEvent, controlId,
                processingId, version, charsetField);
        String acknowledged = Terser.get(mshIn, 10, 0, 1, 1);
        return escapeControls(new AckBuilder(parsers.get().getParserConfiguration().getEscaping())
                .build(model, header, code, acknowledged, cleaned));
    }

    /** HAPI's way, the reference {@link AckBuilder} is checked against and the fallback. */
    String hapiAck(Message inbound, AcknowledgmentCode code, HL7Exception cleaned, HL7Exception error,
                   String charsetField) {
        try {
            Message ack = inbound.generateACK(code, cleaned);
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
     * Whether an exception class fills ERR the way HAPI's {@code AbstractHL7Exception} does (no
     * subclass overrides {@code populateResponse} or the getters it is read back with).
     */
    private static final ClassValue<Boolean> STANDARD_POPULATE = new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
            try {
                return type.getMethod("populateResponse", Message.class, AcknowledgmentCode.class, int.class)
                        .getDeclaringClass() == AbstractHL7Exception.class
                        && type.getMethod("getLocation").getDeclaringClass() == AbstractHL7Exception.class
                        && type.getMethod("getError").getDeclaringClass() == AbstractHL7Exception.class;
            } catch (NoSuchMethodException e) {
                return false;
            }
        }
    };

    /**
     * A NACK for a message HAPI could not parse (or that never got that far), built from the header
     * we could read, as HL7 v2.5.1 unless the sender's version is one we know.
     */
    public String nack(Hl7Header header, AcknowledgmentCode code, HL7Exception error) {
        HL7Exception cleaned = clean(error);
        AckModel model = ((AckModels) context.getModelClassFactory()).ackModel("2.5.1");
        AckFallback fallback = code == null ? AckFallback.NO_CODE
                : errorFallback(cleaned) != null ? errorFallback(cleaned)
                : model == null ? AckFallback.UNKNOWN_ACK_MODEL
                : !gregorian(Locale.getDefault(Locale.Category.FORMAT)) ? AckFallback.NON_GREGORIAN_LOCALE
                : null;
        if (fallback != null) {
            fallbacks.get(fallback).increment();
            return hapiNack(header, code, error);
        }
        try {
            // the values HAPI's path below sets, in its order
            String timestamp = Hl7Timestamp.now(clock);
            String id = context.getParserConfiguration().getIdGenerator().getID();
            String processingId = header != null && header.processingId() != null ? header.processingId() : "P";
            String version = header != null && header.version() != null && VERSIONS.contains(header.version())
                    ? header.version() : "2.5.1";
            AckBuilder.Header msh = header == null
                    ? new AckBuilder.Header(null, null, null, null, timestamp, null, id, processingId, version, null)
                    : new AckBuilder.Header(header.receivingApplication(), header.receivingFacility(),
                    header.sendingApplication(), header.sendingFacility(), timestamp, header.triggerEvent(), id,
                    processingId, version, null);
            return escapeControls(new AckBuilder(parsers.get().getParserConfiguration().getEscaping())
                    .build(model, msh, code, header == null ? null : header.controlId(), cleaned));
        } catch (HL7Exception | IOException e) {
            throw new IllegalStateException("cannot build a NACK", e);
        }
    }

    /**
     * HAPI's NACK, the reference {@link #nack} is checked against and its fallback: a v2.5.1 ACK
     * object filled from the header and encoded.
     */
    String hapiNack(Hl7Header header, AcknowledgmentCode code, HL7Exception error) {
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
    static HL7Exception clean(HL7Exception error) {
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
     * The HL7 version of the ACK class HAPI's {@code generateACK} instantiates for a message of a
     * given model version, if it is one of the standard ACK classes {@link AckBuilder} writes; null
     * otherwise. Remembered per factory and version: HAPI looks it up (through a synchronized
     * {@code Version.available()}) for every ACK.
     */
    interface AckModels {
        AckModel ackModel(String messageVersion);
    }

    /** The standard ACK classes (MSH, [SFT], [UAC], MSA, [ERR]) and their versions. */
    private static final Map<String, Version> ACK_CLASSES = Map.of(
            ca.uhn.hl7v2.model.v23.message.ACK.class.getName(), Version.V23,
            ca.uhn.hl7v2.model.v24.message.ACK.class.getName(), Version.V24,
            ca.uhn.hl7v2.model.v25.message.ACK.class.getName(), Version.V25,
            ca.uhn.hl7v2.model.v251.message.ACK.class.getName(), Version.V251,
            ca.uhn.hl7v2.model.v26.message.ACK.class.getName(), Version.V26,
            ca.uhn.hl7v2.model.v27.message.ACK.class.getName(), Version.V27,
            ca.uhn.hl7v2.model.v28.message.ACK.class.getName(), Version.V28);

    /** As {@code AbstractMessage.instantiateACK} resolves the class; null where it would not find a standard one. */
    private static Optional<AckModel> resolveAckModel(ModelClassFactory factory, String messageVersion) {
        Version version = Version.versionOf(messageVersion);
        if (version == null || !version.available()) {
            return Optional.empty();
        }
        try {
            Class<? extends Message> type = factory.getMessageClass("ACK", version.getVersion(), false);
            Version model = type == null ? null : ACK_CLASSES.get(type.getName());
            return model == null ? Optional.empty() : Optional.of(AckModel.of(model, type, factory, NO_VALIDATION));
        } catch (HL7Exception e) {
            return Optional.empty(); // HAPI's path meets the same failure and answers it
        }
    }

    /**
     * HAPI looks up a class for every z-segment (ZIM…) of every message and fails, through the class
     * loader each time; remembering the answer, including "none", takes that off the hot path.
     */
    static final class SegmentClassCache extends DefaultModelClassFactory implements AckModels {
        private final Map<String, Optional<Class<? extends Segment>>> segments = new ConcurrentHashMap<>();
        private final Map<String, Optional<AckModel>> ackModels = new ConcurrentHashMap<>();

        @Override
        public AckModel ackModel(String messageVersion) {
            return messageVersion == null ? null
                    : ackModels.computeIfAbsent(messageVersion, v -> resolveAckModel(this, v)).orElse(null);
        }

        @Override
        public Class<? extends Segment> getSegmentClass(String name, String version) throws HL7Exception {
            return remembered(segments, version + "|" + name, () -> super.getSegmentClass(name, version));
        }
    }

    /** {@link SegmentClassCache} for a context that parses every message into one version's model. */
    static final class CanonicalSegmentClassCache extends CanonicalModelClassFactory implements AckModels {
        private final Map<String, Optional<Class<? extends Segment>>> segments = new ConcurrentHashMap<>();
        private final Map<String, Optional<AckModel>> ackModels = new ConcurrentHashMap<>();

        @Override
        public AckModel ackModel(String messageVersion) {
            return messageVersion == null ? null
                    : ackModels.computeIfAbsent(messageVersion, v -> resolveAckModel(this, v)).orElse(null);
        }

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
