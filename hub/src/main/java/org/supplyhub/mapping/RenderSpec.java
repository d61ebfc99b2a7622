package org.supplyhub.mapping;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What rendering a journaled usage as FHIR needs besides the usage itself: the renderer's version and
 * the profile's systems that version reads, as they were when the message was taken in. It is
 * journaled as the first property ({@value #PROPERTY}) of the message's usage JSON, so a stored message
 * renders later exactly as it would have at intake, whatever happens since to the profile's systems or
 * to the renderer (a new renderer is a new version; {@link FhirRenderer} dispatches on it).
 * Readers of the usage ignore the property (it is not a {@link SupplyUsage} field).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RenderSpec(int version, Systems systems) {

    /** Version 1: {@link FhirMapper} as of issue 16. */
    public static final int CURRENT_VERSION = 1;

    /** The usage JSON's property that holds the spec. */
    public static final String PROPERTY = "render";

    /**
     * A usage journaled before rendering was versioned has no spec; such a message has the resources
     * intake stored with it, which are used instead. Should one have to be rendered all the same, it is
     * version 1 with the defaults of an empty {@code systems}.
     */
    public static final RenderSpec UNVERSIONED = new RenderSpec(1, Systems.NONE);

    /** Lenient: a spec a newer hub wrote with more fields still names its version (which decides). */
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    /** A profile's systems rarely change: its spec is serialised once, not per message. */
    private static final Map<RenderSpec, String> WRITTEN = new ConcurrentHashMap<>();

    public RenderSpec {
        systems = systems == null ? Systems.NONE : systems;
    }

    /**
     * The profile systems version 1 reads: the hub's own identifiers ({@code transaction}) and the
     * systems of item and charge codes that carry none of their own. Null: the hub's default
     * ({@code urn:supplyhub:<interface>:…}).
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Systems(String transaction, String item, String chargeCode) {

        public static final Systems NONE = new Systems(null, null, null);

        public static Systems of(MappingProfile.Systems s) {
            return s == null ? NONE : new Systems(s.transaction(), s.item(), s.chargeCode());
        }
    }

    /** How a message mapped with {@code profile} is rendered, now and later. */
    public static RenderSpec current(MappingProfile profile) {
        return new RenderSpec(CURRENT_VERSION, Systems.of(profile.systems()));
    }

    /** {@code usageJson} (a JSON object) with this spec as its first property. */
    public String journal(String usageJson) {
        String spec = WRITTEN.computeIfAbsent(this, RenderSpec::write);
        int open = usageJson.indexOf('{');
        if (open < 0) {
            throw new IllegalArgumentException("the usage is not a JSON object");
        }
        int next = open + 1;
        while (next < usageJson.length() && Character.isWhitespace(usageJson.charAt(next))) {
            next++;
        }
        boolean empty = next < usageJson.length() && usageJson.charAt(next) == '}';
        return new StringBuilder(usageJson.length() + spec.length() + 12).append("{\"").append(PROPERTY).append("\":")
                .append(spec).append(empty ? "" : ",").append(usageJson, open + 1, usageJson.length()).toString();
    }

    private static String write(RenderSpec spec) {
        try {
            return JSON.writeValueAsString(spec);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a render spec is strings and a number", e);
        }
    }

    /**
     * The spec journaled with a usage, or null when it has none (journaled before rendering was
     * versioned). Reads only the first property: the usage itself is not parsed.
     */
    public static RenderSpec read(String usageJson) {
        try (JsonParser p = JSON.getFactory().createParser(usageJson)) {
            if (p.nextToken() != JsonToken.START_OBJECT || p.nextToken() != JsonToken.FIELD_NAME
                    || !PROPERTY.equals(p.currentName())) {
                return null;
            }
            p.nextToken();
            return JSON.readValue(p, RenderSpec.class);
        } catch (IOException e) {
            throw new UncheckedIOException("the usage's render spec cannot be read", e);
        }
    }
}
