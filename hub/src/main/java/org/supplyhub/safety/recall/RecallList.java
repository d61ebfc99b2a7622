package org.supplyhub.safety.recall;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import org.supplyhub.mapping.ConfigurationException;
import org.supplyhub.mapping.udi.UdiParser;
import org.supplyhub.safety.Recall;
import org.supplyhub.safety.RecallIndex;

import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The hospital's recall list: rows of device identifier, lots or a serial range, and the recall
 * (number, FDA class, date, text), held in a map by DI so a lookup costs one hash probe and a scan
 * of that DI's few rows. Immutable; a reload or a fetch builds a new one.
 *
 * <p>CSV (header required, columns in any order, {@code #} starts a comment line):
 * <pre>
 * di,lots,serial_from,serial_to,recall_number,class,date,text
 * 00889024123458,LOT7781A;LOT7790B,,,Z-1234-2026,II,2026-10-02,Femoral component: packaging seal may be breached
 * 00643169001763,,SN1000,SN1999,Z-0077-2026,I,2026-09-14,Pacemaker: premature battery depletion
 * </pre>
 * A row names lots ({@code ;}-separated) or a serial range, or neither (every device of the DI);
 * not both: a recall notice listing lots and serials is written as two rows with the same number.
 */
public final class RecallList implements RecallIndex {

    /** The recall list's file in {@code mappings/}: optional; without it the list is empty. */
    public static final String FILE = "recalls.csv";
    public static final List<String> COLUMNS =
            List.of("di", "lots", "serial_from", "serial_to", "recall_number", "class", "date", "text");
    private static final Set<String> REQUIRED = Set.of("di", "recall_number", "class", "date");
    static final int MAX_TEXT = 500;

    /** Most severe first (class I), then the newest, then by number: what a check reports when several match. */
    public static final Comparator<Recall> MOST_SEVERE = Comparator.comparing(Recall::recallClass)
            .thenComparing(Recall::date, Comparator.reverseOrder()).thenComparing(Recall::number);

    public static final RecallList EMPTY = new RecallList("none", List.of());

    /** One row: the devices it covers and the recall. */
    public record Entry(String deviceIdentifier, Set<String> lots, SerialRange serials, Recall recall) {

        public Entry {
            deviceIdentifier = DeviceIdentifiers.normalize(deviceIdentifier);
            lots = lots == null ? Set.of() : Set.copyOf(lots.stream().map(DeviceIdentifiers::production).toList());
        }

        /** Lots listed: the device's lot is one of them. A range: its serial lies in it. Neither: every device of the DI. */
        public boolean covers(String lot, String serial) {
            if (!lots.isEmpty()) {
                String l = DeviceIdentifiers.production(lot);
                return l != null && lots.contains(l);
            }
            return serials == null || serials.contains(serial);
        }
    }

    private final String source;
    private final List<Entry> entries;
    private final Map<String, List<Entry>> byDi;

    public RecallList(String source, Collection<Entry> entries) {
        this.source = source;
        this.entries = List.copyOf(entries);
        Map<String, List<Entry>> map = new HashMap<>();
        for (Entry e : this.entries) {
            map.computeIfAbsent(e.deviceIdentifier(), k -> new ArrayList<>(2)).add(e);
        }
        map.replaceAll((k, v) -> List.copyOf(v));
        this.byDi = Map.copyOf(map);
    }

    /** Where the list came from ({@code mappings/recalls.csv}, a URL), for the admin API and logs. */
    public String source() {
        return source;
    }

    public List<Entry> entries() {
        return entries;
    }

    public int size() {
        return entries.size();
    }

    /** Every recall covering the device, most severe first. */
    public Stream<Recall> matches(String deviceIdentifier, String lot, String serial) {
        List<Entry> candidates = byDi.get(DeviceIdentifiers.normalize(deviceIdentifier));
        if (candidates == null) {
            return Stream.empty();
        }
        return candidates.stream().filter(e -> e.covers(lot, serial)).map(Entry::recall).distinct().sorted(MOST_SEVERE);
    }

    @Override
    public Optional<Recall> find(String deviceIdentifier, String lot, String serial) {
        return matches(deviceIdentifier, lot, serial).findFirst();
    }

    /** {@code mappings/recalls.csv}, or the empty list when there is none. */
    public static RecallList load(Path mappingsDir) {
        Path file = mappingsDir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return EMPTY;
        }
        String display = "mappings/" + FILE;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return parseCsv(reader, display);
        } catch (IOException e) {
            throw new ConfigurationException(display + ": cannot be read: " + e.getMessage(), e);
        }
    }

    public static RecallList parseCsv(String text, String source) {
        try {
            return parseCsv(new StringReader(text), source);
        } catch (IOException e) {
            throw new IllegalStateException("a string reader does not fail", e);
        }
    }

    /**
     * Reads and checks a list; every bad row is one problem {@code source: line N: …}, all of them
     * collected, and any problem refuses the whole list (a half-read list would silently drop recalls).
     */
    public static RecallList parseCsv(Reader reader, String source) throws IOException {
        java.io.StringWriter copy = new java.io.StringWriter();
        reader.transferTo(copy);
        String text = copy.toString();
        if (text.lines().allMatch(l -> l.isBlank() || l.startsWith("#"))) {
            throw new ConfigurationException(source, 1, "no header line (the list is empty); a list without recalls"
                    + " is the header " + COLUMNS + " alone");
        }
        return parseText(new StringReader(text), source);
    }

    private static RecallList parseText(Reader reader, String source) {
        List<ConfigurationException.Problem> problems = new ArrayList<>();
        List<Entry> entries = new ArrayList<>();
        Map<String, Recall> byNumber = new HashMap<>();
        CsvMapper mapper = new CsvMapper();
        mapper.enable(CsvParser.Feature.SKIP_EMPTY_LINES).enable(CsvParser.Feature.TRIM_SPACES);
        try (MappingIterator<Map<String, String>> rows = mapper.readerFor(Map.class)
                .with(CsvSchema.emptySchema().withHeader().withComments()).readValues(reader)) {
            // the header is checked before any row: a list of zero rows must still carry it, so an empty
            // body (a proxy's empty 200, a truncated file) is refused rather than read as "no recalls"
            boolean more = rows.hasNext();
            checkHeader(((CsvParser) rows.getParser()).getSchema(), source);
            while (more && rows.hasNext()) {
                Map<String, String> row;
                int line;
                try {
                    row = rows.next();
                    line = rows.getCurrentLocation().getLineNr() - 1;
                } catch (RuntimeException e) {
                    int at = e.getCause() instanceof JsonProcessingException j && j.getLocation() != null
                            ? j.getLocation().getLineNr() : 0;
                    problems.add(new ConfigurationException.Problem(source, Math.max(0, at),
                            "not valid CSV: " + firstLine(e.getCause() != null ? e.getCause().getMessage() : e.getMessage())));
                    break; // the reader cannot resynchronise after a broken row
                }
                try {
                    Entry entry = entry(row);
                    Recall seen = byNumber.putIfAbsent(entry.recall().number(), entry.recall());
                    if (seen != null && !seen.equals(entry.recall())) {
                        throw new IllegalArgumentException("recall " + entry.recall().number() + " is given with another"
                                + " class, date or text on an earlier line; rows of one recall must agree");
                    }
                    entries.add(entry);
                } catch (IllegalArgumentException e) {
                    problems.add(new ConfigurationException.Problem(source, line, e.getMessage()));
                }
            }
        } catch (ConfigurationException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            problems.add(new ConfigurationException.Problem(source, 0, "not valid CSV: " + firstLine(e.getMessage())));
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        return new RecallList(source, entries);
    }

    private static void checkHeader(CsvSchema header, String source) {
        Set<String> names = new java.util.LinkedHashSet<>();
        header.forEach(c -> names.add(c.getName()));
        List<String> unknown = names.stream().filter(n -> !COLUMNS.contains(n)).toList();
        List<String> missing = REQUIRED.stream().filter(n -> !names.contains(n)).sorted().toList();
        if (!unknown.isEmpty() || !missing.isEmpty()) {
            throw new ConfigurationException(source, 1, "header must name the columns " + COLUMNS
                    + (missing.isEmpty() ? "" : "; missing " + missing)
                    + (unknown.isEmpty() ? "" : "; unknown " + unknown));
        }
    }

    /**
     * A FHIR R4 {@code List} (JSON) of recalled devices, one entry per row of the CSV: {@code item}
     * is the device by identifier ({@code item.identifier.value} the DI, {@code item.display} the
     * text), {@code date} the recall date, {@code flag.coding[0].code} the class (I, II, III), and
     * extensions {@value #EXTENSION_BASE}recall-number (string), …recall-lot (string, repeats),
     * …recall-serial-from and …recall-serial-to (strings). Problems name the entry (1-based).
     */
    public static RecallList parseFhirList(String json, String source) {
        org.hl7.fhir.r4.model.ListResource list;
        try {
            list = ca.uhn.fhir.context.FhirContext.forR4Cached().newJsonParser()
                    .parseResource(org.hl7.fhir.r4.model.ListResource.class, json);
        } catch (RuntimeException e) {
            throw new ConfigurationException(source + ": not a FHIR List: " + firstLine(e.getMessage()));
        }
        List<ConfigurationException.Problem> problems = new ArrayList<>();
        List<Entry> entries = new ArrayList<>();
        Map<String, Recall> byNumber = new HashMap<>();
        int n = 0;
        for (org.hl7.fhir.r4.model.ListResource.ListEntryComponent e : list.getEntry()) {
            n++;
            Map<String, String> row = new HashMap<>();
            org.hl7.fhir.r4.model.Reference item = e.getItem();
            row.put("di", item.hasIdentifier() ? item.getIdentifier().getValue() : null);
            row.put("text", item.getDisplay());
            // the date as written (a dateTime's first ten characters), not shifted through a time zone
            String date = e.getDateElement().getValueAsString();
            row.put("date", date == null ? null : date.substring(0, Math.min(10, date.length())));
            row.put("class", e.getFlag().getCodingFirstRep().getCode());
            row.put("recall_number", extension(e, "recall-number"));
            row.put("serial_from", extension(e, "recall-serial-from"));
            row.put("serial_to", extension(e, "recall-serial-to"));
            row.put("lots", String.join(";", e.getExtensionsByUrl(EXTENSION_BASE + "recall-lot").stream()
                    .map(x -> x.getValue() == null ? "" : x.getValue().primitiveValue()).toList()));
            try {
                Entry entry = entry(row);
                Recall seen = byNumber.putIfAbsent(entry.recall().number(), entry.recall());
                if (seen != null && !seen.equals(entry.recall())) {
                    throw new IllegalArgumentException("recall " + entry.recall().number()
                            + " is given with another class, date or text in an earlier entry");
                }
                entries.add(entry);
            } catch (IllegalArgumentException ex) {
                problems.add(new ConfigurationException.Problem(source, 0, "entry " + n + ": " + ex.getMessage()));
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigurationException(problems);
        }
        return new RecallList(source, entries);
    }

    /** Where the FHIR List's extensions are defined (README, Implant safety). */
    public static final String EXTENSION_BASE = "https://supplyhub.org/fhir/StructureDefinition/";

    private static String extension(org.hl7.fhir.r4.model.ListResource.ListEntryComponent e, String name) {
        org.hl7.fhir.r4.model.Extension x = e.getExtensionByUrl(EXTENSION_BASE + name);
        return x == null || x.getValue() == null ? null : x.getValue().primitiveValue();
    }

    private static Entry entry(Map<String, String> row) {
        String di = value(row, "di");
        if (di == null) {
            throw new IllegalArgumentException("di is empty (the device identifier: a GTIN, or a HIBCC labeler+product+unit)");
        }
        String normalized = DeviceIdentifiers.normalize(di);
        if (normalized.chars().allMatch(Character::isDigit)) {
            if (!UdiParser.isValidGtin(normalized)) {
                throw new IllegalArgumentException("di '" + di + "' is not a valid GTIN (length 8, 12, 13 or 14, check digit)");
            }
        } else if (!normalized.matches("[A-Z][A-Z0-9]{3}[A-Z0-9]{1,18}[0-9]")) {
            throw new IllegalArgumentException("di '" + di + "' is neither a GTIN nor a HIBCC device identifier"
                    + " (labeler code, product number, unit of measure digit)");
        }
        Set<String> lots = new LinkedHashSet<>();
        String lotText = value(row, "lots");
        if (lotText != null) {
            for (String lot : lotText.split(";")) {
                if (!lot.isBlank()) {
                    lots.add(lot.trim());
                }
            }
        }
        String from = value(row, "serial_from");
        String to = value(row, "serial_to");
        SerialRange serials = null;
        if (from != null || to != null) {
            if (from == null || to == null) {
                throw new IllegalArgumentException("serial_from and serial_to go together (for one serial, write it in both)");
            }
            serials = new SerialRange(from, to);
        }
        if (!lots.isEmpty() && serials != null) {
            throw new IllegalArgumentException("a row names lots or a serial range, not both; write two rows with the"
                    + " same recall_number");
        }
        String number = value(row, "recall_number");
        if (number == null) {
            throw new IllegalArgumentException("recall_number is empty (the manufacturer's or FDA's recall number)");
        }
        String classText = value(row, "class");
        Recall.RecallClass recallClass;
        try {
            recallClass = Recall.RecallClass.valueOf(classText == null ? ""
                    : classText.toUpperCase(Locale.ROOT).replaceFirst("^CLASS\\s+", ""));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("class must be I, II or III (got " + (classText == null ? "nothing"
                    : "'" + classText + "'") + ")");
        }
        String dateText = value(row, "date");
        LocalDate date;
        try {
            date = LocalDate.parse(dateText == null ? "" : dateText);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("date must be YYYY-MM-DD (got " + (dateText == null ? "nothing"
                    : "'" + dateText + "'") + ")");
        }
        String text = value(row, "text");
        if (text != null && text.length() > MAX_TEXT) {
            throw new IllegalArgumentException("text is longer than " + MAX_TEXT + " characters");
        }
        return new Entry(di, lots, serials, new Recall(number, recallClass, date, text));
    }

    private static String value(Map<String, String> row, String column) {
        String v = row.get(column);
        return v == null || v.isBlank() ? null : v.trim();
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "unreadable";
        }
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
