package org.supplyhub.mapping;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import org.supplyhub.mapping.SupplyUsage.Item;
import org.supplyhub.mapping.udi.UdiParser;

import java.io.IOException;
import java.io.Reader;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The item master crosswalk: the sender's item code ({@code system|code}) to the inventory item,
 * its charge code, HCPCS, revenue code, price and whether it is billable.
 */
public final class ItemMaster {

    static final List<String> COLUMNS = List.of("item_id", "description", "manufacturer", "catalog_number",
            "gtin", "unit", "chargeable", "charge_code", "hcpcs", "revenue_code", "unit_price", "source_code");
    /** Optional: {@code stock=false} marks a non-stock item (a service); empty or absent means true. */
    static final String STOCK = "stock";

    private final Map<String, Item> bySourceCode;

    private ItemMaster(Map<String, Item> bySourceCode) {
        this.bySourceCode = Collections.unmodifiableMap(bySourceCode);
    }

    public Optional<Item> find(String sourceCode) {
        return Optional.ofNullable(bySourceCode.get(sourceCode));
    }

    public int size() {
        return bySourceCode.size();
    }

    /** Reads and checks a crosswalk CSV; any bad row stops start-up with its file and line. */
    public static ItemMaster load(Path file, String displayName) {
        CsvSchema schema = CsvSchema.emptySchema().withHeader();
        Map<String, Item> items = new HashMap<>();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
             MappingIterator<Map<String, String>> rows = new CsvMapper()
                     .readerFor(Map.class).with(schema).readValues(reader)) {
            while (rows.hasNext()) {
                Map<String, String> row = rows.next();
                int line = rows.getCurrentLocation().getLineNr() - 1;
                String where = displayName + ": line " + line + ": ";
                if (items.isEmpty() && !row.keySet().containsAll(COLUMNS)) {
                    throw new ConfigurationException(displayName + ": header must name the columns " + COLUMNS);
                }
                Item item = toItem(row, where);
                if (items.putIfAbsent(item.sourceCode(), item) != null) {
                    throw new ConfigurationException(where + "source_code '" + item.sourceCode() + "' appears twice");
                }
            }
        } catch (IOException e) {
            throw new ConfigurationException(displayName + ": cannot be read: " + e.getMessage(), e);
        }
        if (items.isEmpty()) {
            throw new ConfigurationException(displayName + ": has no items");
        }
        return new ItemMaster(items);
    }

    private static Item toItem(Map<String, String> row, String where) {
        String itemId = required(row, "item_id", where);
        String sourceCode = required(row, "source_code", where);
        if (!sourceCode.contains("|")) {
            throw new ConfigurationException(where + "source_code '" + sourceCode + "' must be system|code");
        }
        String gtin = blankToNull(row.get("gtin"));
        if (gtin != null && !UdiParser.isValidGtin(gtin)) {
            throw new ConfigurationException(where + "gtin '" + gtin + "' is not a valid GTIN (length or check digit)");
        }
        String chargeable = required(row, "chargeable", where).toLowerCase();
        if (!chargeable.equals("true") && !chargeable.equals("false")) {
            throw new ConfigurationException(where + "chargeable must be true or false, not '" + chargeable + "'");
        }
        BigDecimal price = null;
        String priceText = blankToNull(row.get("unit_price"));
        if (priceText != null) {
            try {
                price = FieldChecks.number(priceText, FieldChecks.AMOUNT_DIGITS, null, 0, "unit_price");
            } catch (MappingException e) {
                throw new ConfigurationException(where + "unit_price '" + priceText + "' is not a number of at most "
                        + FieldChecks.AMOUNT_DIGITS + " digits before the point and " + FieldChecks.FRACTION_DIGITS + " after");
            }
        }
        // these become FHIR codes (and DFT fields): the same syntax the mapper asks of a message
        for (String column : List.of("item_id", "charge_code", "hcpcs", "revenue_code", "unit")) {
            try {
                FieldChecks.code(blankToNull(row.get(column)), FieldChecks.CODE_MAX, null, 0, column);
            } catch (MappingException e) {
                throw new ConfigurationException(where + column + " is not a code (at most " + FieldChecks.CODE_MAX
                        + " characters, no control characters or double spaces)");
            }
        }
        String stock = blankToNull(row.get("stock"));
        if (stock != null && !stock.equalsIgnoreCase("true") && !stock.equalsIgnoreCase("false")) {
            throw new ConfigurationException(where + "stock must be true, false or empty (= true), not '" + stock + "'");
        }
        return new Item(itemId, blankToNull(row.get("description")), blankToNull(row.get("manufacturer")),
                blankToNull(row.get("catalog_number")), gtin, required(row, "unit", where),
                Boolean.parseBoolean(chargeable), blankToNull(row.get("charge_code")), blankToNull(row.get("hcpcs")),
                blankToNull(row.get("revenue_code")), price, sourceCode,
                stock == null ? null : Boolean.valueOf(stock.toLowerCase()));
    }

    private static String required(Map<String, String> row, String column, String where) {
        String value = blankToNull(row.get(column));
        if (value == null) {
            throw new ConfigurationException(where + column + " is empty");
        }
        return value;
    }

    static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
