package org.supplyhub.mapping;

import org.supplyhub.mapping.SupplyUsage.Flag;
import org.supplyhub.mapping.SupplyUsage.Implant;
import org.supplyhub.mapping.SupplyUsage.Kind;
import org.supplyhub.mapping.SupplyUsage.Line;
import org.supplyhub.mapping.SupplyUsage.Ref;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Version 1 of {@link FhirRenderer} written as JSON directly: for each resource {@link FhirMapper}
 * builds, the string HAPI FHIR's JSON parser encodes it as, byte for byte, without building the
 * model or running HAPI's reflective encoder (~24 % of the hub's CPU samples with FHIR delivery on,
 * issue 16). FhirMapper stays the definition of version 1 and the oracle: FhirJsonWriterOracleTest
 * compares the two over every sample, mapping test message and a randomized corpus.
 *
 * <p>What HAPI's encoder does, and this writer therefore does: elements in the order of the R4
 * definitions (not the order the mapper sets them); an element whose primitives are all blank
 * (Character.isWhitespace) is left out, and so is a composite or array with nothing left in it;
 * decimals as {@link BigDecimal#toString()}; a date-time in the sender's offset, "+00:00" for UTC;
 * strings escaped as Jackson does (control characters, quote and backslash only; '/', non-ASCII
 * and lone surrogates as they are).
 *
 * <p>{@link #writable} names the shapes left to HAPI, which the mapper never produces: a date
 * outside the years 1600–9999 (HAPI's calendar is Julian before 1582, and its parser decides what a
 * five-digit year does), an offset with seconds (HAPI's time zone drops it), a usage without lines
 * or with a null line (the mapper throws).
 */
final class FhirJsonWriter {

    private static final String SUPPLY_ITEM_TYPE_CODING = "{\"system\":" + quoted(FhirMapper.SUPPLY_ITEM_TYPE)
            + ",\"code\":\"device\",\"display\":\"Device\"}";
    private static final String CATALOG_NUMBER = "{\"coding\":[{\"system\":" + quoted(FhirMapper.IDENTIFIER_TYPE)
            + ",\"code\":\"catalog-number\",\"display\":\"Catalog number\"}],\"text\":\"Catalog number\"}";
    private static final Pattern RECALL_UNSAFE = Pattern.compile("[^A-Za-z0-9._~-]");
    private static final char GS = 0x1d;
    private static final int MIN_YEAR = 1600;
    private static final int MAX_YEAR = 9999;

    private FhirJsonWriter() {
    }

    /**
     * False when {@code usage} has a shape this writer leaves to HAPI (see the class comment): the
     * renderer then encodes the mapper's resources as before.
     */
    static boolean writable(SupplyUsage usage) {
        if (usage.lines() == null) {
            return false;
        }
        for (Line line : usage.lines()) {
            if (line == null || !writable(line.serviceDate()) || !writable(line.enteredDate())) {
                return false;
            }
            for (Implant implant : line.implants()) {
                if (!writable(implant.expiry()) || !writable(implant.manufactured())) {
                    return false;
                }
            }
        }
        for (Flag flag : usage.flags()) {
            if (!writable(flag.identified())) {
                return false;
            }
        }
        return true;
    }

    private static boolean writable(OffsetDateTime time) {
        return time == null || (time.getOffset().getTotalSeconds() % 60 == 0 && writableYear(time.getYear()));
    }

    private static boolean writable(LocalDate date) {
        return date == null || writableYear(date.getYear());
    }

    private static boolean writableYear(int year) {
        return year >= MIN_YEAR && year <= MAX_YEAR;
    }

    /** The resources of each line, as {@link FhirMapper#toFhirByLine} builds and HAPI encodes them. Requires {@link #writable}. */
    static List<FhirRenderer.Rendered> render(SupplyUsage usage, RenderSpec.Systems systems) {
        Context c = new Context(usage, systems);
        List<FhirRenderer.Rendered> out = new ArrayList<>(usage.lines().size() * 4);
        int number = 0;
        for (Line line : usage.lines()) {
            number++;
            if (!line.movesStock()) {
                out.add(c.chargeItem(number, line, null, null));
                c.detectedIssues(out, number, line, List.of());
                continue;
            }
            List<String> devices = new ArrayList<>(line.implants().size());
            if (line.kind() == Kind.CHARGE) {
                for (int i = 0; i < line.implants().size(); i++) {
                    String suffix = i == 0 ? "" : "#" + (i + 1);
                    devices.add(FhirMapper.resourceId(usage.interfaceId(), line.transactionId(), "Device" + suffix));
                }
            }
            DeviceRef deviceRef = devices.size() == 1 ? new DeviceRef(devices.get(0), null)
                    : devices.isEmpty() ? returnedDevice(line) : null;
            String deliveryId = FhirMapper.resourceId(usage.interfaceId(), line.transactionId(), "SupplyDelivery");
            out.add(c.supplyDelivery(number, line, deliveryId, deviceRef));
            for (int i = 0; i < devices.size(); i++) {
                out.add(c.device(number, line, i, devices.get(i)));
            }
            out.add(c.chargeItem(number, line, deviceRef, deliveryId));
            c.detectedIssues(out, number, line, devices);
        }
        return out;
    }

    /** What suppliedItem.item and product reference: a Device in the Bundle, or a returned one by identifier. */
    private record DeviceRef(String id, String originalTransactionId) { }

    private static DeviceRef returnedDevice(Line line) {
        if (line.kind() != Kind.CREDIT || line.implants().size() != 1 || line.originalTransactionId() == null) {
            return null;
        }
        return new DeviceRef(null, line.originalTransactionId());
    }

    /** The per-usage values every resource of it shares, and the buffer resources are written into. */
    private static final class Context {
        final SupplyUsage usage;
        final RenderSpec.Systems systems;
        final String txSystem;
        final String source;
        final Json json = new Json();

        Context(SupplyUsage usage, RenderSpec.Systems systems) {
            this.usage = usage;
            this.systems = systems;
            this.txSystem = systems.transaction() != null ? systems.transaction()
                    : "urn:supplyhub:" + usage.interfaceId() + ":transaction";
            this.source = FhirMapper.source(usage.interfaceId(), usage.controlId());
        }

        private void begin(String type, String id) {
            json.reset();
            json.beginObject(null);
            json.string("resourceType", type);
            json.string("id", id);
            json.beginObject("meta");
            json.string("source", source);
            json.endObject();
        }

        private FhirRenderer.Rendered end(int line, String type, String id) {
            json.endObject();
            return new FhirRenderer.Rendered(line, type, id, json.text());
        }

        FhirRenderer.Rendered supplyDelivery(int number, Line line, String id, DeviceRef device) {
            Json j = json;
            begin("SupplyDelivery", id);
            j.beginArray("identifier");
            identifierElement(txSystem, line.transactionId());
            j.endArray();
            if (line.kind() == Kind.CREDIT && line.originalTransactionId() != null) {
                j.beginArray("partOf");
                j.beginObject(null);
                j.string("type", "SupplyDelivery");
                identifier("identifier", txSystem, line.originalTransactionId());
                j.endObject();
                j.endArray();
            }
            j.string("status", "completed");
            ref("patient", "Patient", usage.patient());
            j.beginObject("type");
            j.beginArray("coding");
            j.raw(null, SUPPLY_ITEM_TYPE_CODING);
            j.endArray();
            j.endObject();
            j.beginObject("suppliedItem");
            quantity(line);
            if (device != null) {
                deviceRef("itemReference", device);
            } else {
                itemConcept("itemCodeableConcept", line);
            }
            j.endObject();
            if (line.serviceDate() != null) {
                dateTime("occurrenceDateTime", line.serviceDate(), line.serviceDatePrecision());
            }
            if (line.location() != null) {
                ref("destination", "Location", line.location());
            }
            if (line.performer() != null) {
                j.beginArray("receiver");
                ref(null, "Practitioner", line.performer());
                j.endArray();
            }
            return end(number, "SupplyDelivery", id);
        }

        FhirRenderer.Rendered device(int number, Line line, int n, String id) {
            Json j = json;
            Implant implant = line.implants().get(n);
            String suffix = n == 0 ? "" : "#" + (n + 1);
            begin("Device", id);
            j.beginArray("identifier");
            identifierElement(txSystem, line.transactionId() + suffix);
            if (implant.catalogNumber() != null) {
                j.beginObject(null);
                j.raw("type", CATALOG_NUMBER);
                j.string("value", implant.catalogNumber());
                if (implant.manufacturer() != null) {
                    j.beginObject("assigner");
                    j.string("display", implant.manufacturer());
                    j.endObject();
                }
                j.endObject();
            }
            j.endArray();
            if (implant.deviceIdentifier() != null || implant.udiCarrier() != null) {
                j.beginArray("udiCarrier");
                j.beginObject(null);
                j.string("deviceIdentifier", implant.deviceIdentifier());
                j.string("issuer", implant.udiIssuer());
                j.string("jurisdiction", FhirMapper.FDA_UDI);
                if (implant.udiCarrier() != null && implant.udiCarrier().indexOf(GS) >= 0) {
                    j.string("carrierAIDC", Base64.getEncoder().encodeToString(
                            implant.udiCarrier().getBytes(StandardCharsets.UTF_8)));
                } else {
                    j.string("carrierHRF", implant.udiCarrier());
                }
                j.endObject();
                j.endArray();
            }
            j.string("status", "active");
            j.string("manufacturer", implant.manufacturer());
            if (implant.manufactured() != null) {
                j.string("manufactureDate", implant.manufactured().toString());
            }
            if (implant.expiry() != null) {
                j.string("expirationDate", implant.expiry().toString());
            }
            j.string("lotNumber", implant.lot());
            j.string("serialNumber", implant.serial());
            String name = implant.model() != null ? implant.model() : line.master() == null ? null : line.master().description();
            if (name != null) {
                j.beginArray("deviceName");
                j.beginObject(null);
                j.string("name", name);
                j.string("type", implant.model() != null ? "model-name" : "user-friendly-name");
                j.endObject();
                j.endArray();
            }
            j.string("modelNumber", implant.model());
            if (line.master() != null || line.ndc() != null) {
                j.beginObject("type");
                j.beginArray("coding");
                if (line.master() != null) {
                    coding(FhirMapper.ITEM_MASTER, line.master().itemId(), line.master().description());
                }
                if (line.ndc() != null) {
                    ndc(line);
                }
                j.endArray();
                j.endObject();
            }
            ref("patient", "Patient", usage.patient());
            return end(number, "Device", id);
        }

        FhirRenderer.Rendered chargeItem(int number, Line line, DeviceRef device, String deliveryId) {
            Json j = json;
            SupplyUsage.Item master = line.master();
            String id = FhirMapper.resourceId(usage.interfaceId(), line.transactionId(), "ChargeItem");
            begin("ChargeItem", id);
            j.beginArray("identifier");
            identifierElement(txSystem, line.transactionId());
            j.endArray();
            j.string("status", line.chargeable() ? "billable" : "not-billable");
            if (line.kind() == Kind.CREDIT && line.originalTransactionId() != null) {
                j.beginArray("partOf");
                j.beginObject(null);
                j.string("type", "ChargeItem");
                identifier("identifier", txSystem, line.originalTransactionId());
                j.endObject();
                j.endArray();
            }
            j.beginObject("code");
            j.beginArray("coding");
            boolean coded = false;
            if (master != null && master.chargeCode() != null) {
                coding(systems.chargeCode() != null ? systems.chargeCode()
                        : "urn:supplyhub:" + usage.interfaceId() + ":charge-code", master.chargeCode(), master.description());
                coded = true;
            }
            if (master != null && master.hcpcs() != null) {
                coding(FhirMapper.HCPCS, master.hcpcs(), null);
                coded = true;
            }
            if (!coded) {
                coding(itemSystem(line), itemCode(line), line.itemText());
            }
            j.endArray();
            j.string("text", master != null ? master.description() : line.itemText());
            j.endObject();
            ref("subject", "Patient", usage.patient());
            if (usage.encounter() != null) {
                ref("context", "Encounter", usage.encounter());
            }
            if (line.serviceDate() != null) {
                dateTime("occurrenceDateTime", line.serviceDate(), line.serviceDatePrecision());
            }
            if (line.performer() != null) {
                j.beginArray("performer");
                j.beginObject(null);
                ref("actor", "Practitioner", line.performer());
                j.endObject();
                j.endArray();
            }
            if (line.performingOrganization() != null) {
                ref("performingOrganization", "Organization", line.performingOrganization());
            }
            if (line.orderingOrganization() != null) {
                ref("requestingOrganization", "Organization", line.orderingOrganization());
            }
            if (line.costCenter() != null) {
                ref("costCenter", "Organization", line.costCenter());
            }
            quantity(line);
            if (line.extendedPrice() != null) {
                j.beginObject("priceOverride");
                j.decimal("value", line.extendedPrice());
                j.string("currency", line.currency());
                j.endObject();
            }
            if (line.enterer() != null) {
                ref("enterer", "Practitioner", line.enterer());
            }
            if (line.enteredDate() != null) {
                dateTime("enteredDate", line.enteredDate(), line.enteredDatePrecision());
            }
            if (!line.reasons().isEmpty()) {
                j.beginArray("reason");
                for (SupplyUsage.Coding reason : line.reasons()) {
                    j.beginObject(null);
                    j.beginArray("coding");
                    coding(reason.system(), reason.code(), reason.display());
                    j.endArray();
                    j.endObject();
                }
                j.endArray();
            }
            if (deliveryId != null) {
                j.beginArray("service");
                j.beginObject(null);
                j.string("reference", "urn:uuid:" + deliveryId);
                j.string("type", "SupplyDelivery");
                j.endObject();
                j.endArray();
            }
            if (deliveryId == null) {
                if (line.ndc() != null) {
                    j.beginObject("productCodeableConcept");
                    j.beginArray("coding");
                    ndc(line);
                    j.endArray();
                    j.endObject();
                }
            } else if (device != null) {
                deviceRef("productReference", device);
            } else {
                itemConcept("productCodeableConcept", line);
            }
            if (usage.account() != null) {
                j.beginArray("account");
                ref(null, "Account", usage.account());
                j.endArray();
            }
            if (!line.notes().isEmpty()) {
                j.beginArray("note");
                for (String note : line.notes()) {
                    j.beginObject(null);
                    j.string("text", note);
                    j.endObject();
                }
                j.endArray();
            }
            return end(number, "ChargeItem", id);
        }

        void detectedIssues(List<FhirRenderer.Rendered> out, int number, Line line, List<String> devices) {
            Json j = json;
            for (Flag flag : usage.flags()) {
                if (flag.line() != line.index()) {
                    continue;
                }
                String suffix = flag.device() == 0 ? "" : "#" + (flag.device() + 1);
                String key = line.transactionId() + suffix + "#" + flag.reason();
                String id = FhirMapper.resourceId(usage.interfaceId(), key, "DetectedIssue");
                begin("DetectedIssue", id);
                j.beginArray("identifier");
                identifierElement("urn:supplyhub:" + usage.interfaceId() + ":detected-issue", key);
                j.endArray();
                j.string("status", "final");
                String display = FhirMapper.reasonDisplay(flag.reason());
                j.beginObject("code");
                j.beginArray("coding");
                coding(FhirMapper.IMPLANT_SAFETY, flag.reason(), display);
                j.endArray();
                j.string("text", display);
                j.endObject();
                j.string("severity", "high".equals(flag.severity()) ? "high" : "low".equals(flag.severity()) ? "low" : "moderate");
                ref("patient", "Patient", usage.patient());
                if (flag.identified() != null) {
                    dateTime("identifiedDateTime", flag.identified(), ChronoUnit.MILLIS);
                }
                j.beginArray("implicated");
                String device = flag.device() >= 0 && flag.device() < devices.size() ? devices.get(flag.device()) : null;
                j.beginObject(null);
                if (device != null) {
                    j.string("reference", "urn:uuid:" + device);
                    j.string("type", "Device");
                } else {
                    j.string("type", "Device");
                    identifier("identifier", txSystem, line.transactionId() + suffix);
                }
                j.endObject();
                j.endArray();
                j.string("detail", flag.detail());
                if (flag.recallNumber() != null) {
                    j.string("reference", "urn:supplyhub:recall:" + RECALL_UNSAFE.matcher(flag.recallNumber()).replaceAll("_"));
                }
                out.add(end(number, "DetectedIssue", id));
            }
        }

        private String itemSystem(Line line) {
            if (line.itemSystemUri() != null) {
                return line.itemSystemUri();
            }
            return systems.item() != null ? systems.item() : "urn:supplyhub:" + usage.interfaceId() + ":item";
        }

        private static String itemCode(Line line) {
            return line.item() == null ? null : line.item().value();
        }

        private void itemConcept(String name, Line line) {
            Json j = json;
            j.beginObject(name);
            j.beginArray("coding");
            coding(itemSystem(line), itemCode(line), line.itemText());
            if (line.master() != null) {
                coding(FhirMapper.ITEM_MASTER, line.master().itemId(), line.master().description());
            }
            if (line.ndc() != null) {
                ndc(line);
            }
            j.endArray();
            j.string("text", line.itemText() != null ? line.itemText() : line.master() == null ? null : line.master().description());
            j.endObject();
        }

        private void ndc(Line line) {
            SupplyUsage.Coding ndc = line.ndc();
            coding(ndc.system() != null ? ndc.system() : FhirMapper.NDC, ndc.code(), ndc.display());
        }

        /** A Coding as an array element. */
        private void coding(String system, String code, String display) {
            Json j = json;
            j.beginObject(null);
            j.string("system", system);
            j.string("code", code);
            j.string("display", display);
            j.endObject();
        }

        private void quantity(Line line) {
            Json j = json;
            j.beginObject("quantity");
            j.decimal("value", line.quantity());
            j.string("unit", line.master() == null ? null : line.master().unit());
            j.endObject();
        }

        private void deviceRef(String name, DeviceRef device) {
            Json j = json;
            j.beginObject(name);
            if (device.id() != null) {
                j.string("reference", "urn:uuid:" + device.id());
                j.string("type", "Device");
            } else {
                j.string("type", "Device");
                identifier("identifier", txSystem, device.originalTransactionId());
            }
            j.endObject();
        }

        /** A logical reference by identifier; {@code name} null: an array element. Nothing for a null ref. */
        private void ref(String name, String type, Ref ref) {
            if (ref == null) {
                return;
            }
            Json j = json;
            j.beginObject(name);
            j.string("type", type);
            identifier("identifier", ref.system(), ref.value());
            j.endObject();
        }

        private void identifier(String name, String system, String value) {
            Json j = json;
            j.beginObject(name);
            j.string("system", system);
            j.string("value", value);
            j.endObject();
        }

        private void identifierElement(String system, String value) {
            identifier(null, system, value);
        }

        /** FhirMapper's dateTime: a date for DAYS, else seconds or milliseconds in the sender's offset. */
        private void dateTime(String name, OffsetDateTime time, ChronoUnit unit) {
            if (unit == ChronoUnit.DAYS) {
                json.string(name, time.toLocalDate().toString());
                return;
            }
            StringBuilder b = new StringBuilder(29);
            pad(b, time.getYear(), 4).append('-');
            pad(b, time.getMonthValue(), 2).append('-');
            pad(b, time.getDayOfMonth(), 2).append('T');
            pad(b, time.getHour(), 2).append(':');
            pad(b, time.getMinute(), 2).append(':');
            pad(b, time.getSecond(), 2);
            if (unit == ChronoUnit.MILLIS) {
                b.append('.');
                pad(b, time.getNano() / 1_000_000, 3);
            }
            int offset = time.getOffset().getTotalSeconds() / 60; // writable(): whole minutes
            b.append(offset < 0 ? '-' : '+');
            offset = Math.abs(offset);
            pad(b, offset / 60, 2).append(':');
            pad(b, offset % 60, 2);
            json.string(name, b.toString());
        }

        private static StringBuilder pad(StringBuilder b, int value, int width) {
            String s = Integer.toString(value);
            for (int i = s.length(); i < width; i++) {
                b.append('0');
            }
            return b.append(s);
        }
    }

    private static String quoted(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        Json.escape(b, s);
        return b.append('"').toString();
    }

    /**
     * A JSON text written like HAPI's encoder writes it: an object or array is opened eagerly and
     * taken back at its end when nothing was written into it, as HAPI leaves out empty elements.
     */
    static final class Json {
        private final StringBuilder sb = new StringBuilder(2048);
        /** Per open container: where it began (to take it back) and whether it has content yet. */
        private int[] starts = new int[16];
        private boolean[] filled = new boolean[16];
        private int depth;

        void reset() {
            sb.setLength(0);
            depth = 0;
            filled[0] = false;
        }

        String text() {
            return sb.toString();
        }

        private void name(String name) {
            if (filled[depth]) {
                sb.append(',');
            }
            if (name != null) {
                sb.append('"').append(name).append("\":"); // names are the writer's own, plain ASCII
            }
        }

        void beginObject(String name) {
            open(name, '{');
        }

        void beginArray(String name) {
            open(name, '[');
        }

        private void open(String name, char bracket) {
            int start = sb.length();
            name(name);
            sb.append(bracket);
            if (++depth == starts.length) {
                starts = java.util.Arrays.copyOf(starts, depth * 2);
                filled = java.util.Arrays.copyOf(filled, depth * 2);
            }
            starts[depth] = start;
            filled[depth] = false;
        }

        void endObject() {
            close('}');
        }

        void endArray() {
            close(']');
        }

        private void close(char bracket) {
            if (filled[depth]) {
                sb.append(bracket);
                depth--;
                filled[depth] = true;
            } else {
                sb.setLength(starts[depth]);
                depth--;
            }
        }

        /** A string element; left out when blank, as HAPI leaves out a blank primitive. */
        void string(String name, String value) {
            if (isBlank(value)) {
                return;
            }
            name(name);
            sb.append('"');
            escape(sb, value);
            sb.append('"');
            filled[depth] = true;
        }

        void decimal(String name, BigDecimal value) {
            if (value != null) {
                raw(name, value.toString());
            }
        }

        /** A value already written as JSON (never empty). */
        void raw(String name, String json) {
            name(name);
            sb.append(json);
            filled[depth] = true;
        }

        /** StringUtils.isBlank, which HAPI's PrimitiveType.isEmpty and its encoder use. */
        static boolean isBlank(String s) {
            if (s == null) {
                return true;
            }
            for (int i = 0; i < s.length(); i++) {
                if (!Character.isWhitespace(s.charAt(i))) {
                    return false;
                }
            }
            return true;
        }

        private static final char[] HEX = "0123456789ABCDEF".toCharArray();

        /** Jackson's default escaping: control characters, quote and backslash; everything else as is. */
        static void escape(StringBuilder sb, String s) {
            int from = 0;
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                if (c >= 0x20 && c != '"' && c != '\\') {
                    continue;
                }
                sb.append(s, from, i);
                from = i + 1;
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\b' -> sb.append("\\b");
                    case '\t' -> sb.append("\\t");
                    case '\f' -> sb.append("\\f");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    default -> sb.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
                }
            }
            if (from == 0) {
                sb.append(s); // nothing escaped (the usual case): one bulk copy, where a range is appended char by char
            } else {
                sb.append(s, from, s.length());
            }
        }
    }
}
