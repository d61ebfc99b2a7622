package org.supplyhub.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;
import org.supplyhub.support.Tokens;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Traceability benchmark ({@code -Dbench.mode=devices}): the hub on a fresh PostgreSQL schema whose
 * journal holds 100,000 accepted messages with one implant each (bulk-inserted with SQL, not sent through
 * intake: this measures the query; the intake benchmark measures the cost of writing the index), then
 * {@code GET /api/devices} for every patient of one lot and of one serial, timed over HTTP with a real
 * token, median of several runs, and the PostgreSQL plan of the query the API runs.
 *
 * <pre>./mvnw -pl hub -Pbench verify -Dbench.mode=devices</pre>
 */
public final class DeviceQueryBenchmark {

    static final int MESSAGES = Integer.getInteger("bench.deviceMessages", 100_000);
    static final int RUNS = Integer.getInteger("bench.runs", 21);
    static final String KNEE = "00889024123458";
    static final String LOT = "LOT7781A";
    /** One message in this many carries the recalled lot: 100 patients in 100,000 messages. */
    static final int LOT_EVERY = 1000;

    private DeviceQueryBenchmark() {
    }

    /**
     * The keyed hashes the device index is searched by (lot_key, serial_key), as the hub computes them:
     * with the journal's search key, opened with the same KEK the hub was given.
     */
    static void fillLookupKeys(Connection c, java.nio.file.Path kek) throws Exception {
        org.supplyhub.journal.crypto.JournalKeys keys = new org.supplyhub.journal.crypto.JournalKeys(
                new org.springframework.jdbc.core.JdbcTemplate(new org.springframework.jdbc.datasource.SingleConnectionDataSource(c, true)),
                org.supplyhub.journal.crypto.KeyRing.parse("file:" + kek, "", System::getenv), true, java.time.Clock.systemUTC());
        try (Statement s = c.createStatement()) {
            s.execute("create temporary table lookup_key (kind varchar(8), value varchar(100), k varchar(64))");
        }
        try (PreparedStatement p = c.prepareStatement("insert into lookup_key values (?, ?, ?)")) {
            for (String kind : List.of("lot", "serial")) {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("select distinct " + kind + " from device_use")) {
                    while (rs.next()) {
                        p.setString(1, kind);
                        p.setString(2, rs.getString(1));
                        p.setString(3, keys.keyOf(kind, rs.getString(1)));
                        p.addBatch();
                    }
                }
            }
            p.executeBatch();
        }
        try (Statement s = c.createStatement()) {
            s.execute("update device_use d set lot_key = k.k from lookup_key k where k.kind = 'lot' and k.value = d.lot");
            s.execute("update device_use d set serial_key = k.k from lookup_key k where k.kind = 'serial' and k.value = d.serial");
            s.execute("drop table lookup_key");
        }
        LOT_KEY = keys.keyOf("lot", LOT);
        SERIAL_KEY = keys.keyOf("serial", "SN" + String.format("%08d", LOT_EVERY * 7));
    }

    static String LOT_KEY;
    static String SERIAL_KEY;

    public static void run() throws Exception {
        System.out.printf("Supply Hub traceability benchmark: %d messages, %d cores%n", MESSAGES,
                Runtime.getRuntime().availableProcessors());
        Map<String, String> db = TestDatabases.postgresOwnKek();
        TestInterfaces interfaces = TestInterfaces.copyOfShipped();
        int httpPort = TestInterfaces.freePort();
        java.nio.file.Path kek = java.nio.file.Files.createTempFile("bench-kek", "");
        byte[] key = new byte[32];
        new java.security.SecureRandom().nextBytes(key);
        java.nio.file.Files.writeString(kek, java.util.Base64.getEncoder().encodeToString(key));
        List<String> hubArgs = new ArrayList<>(List.of("-Xmx512m", "-XX:+UseParallelGC",
                "org.supplyhub.SupplyHubApplication", "--server.port=" + httpPort, "--logging.level.root=WARN",
                "--hub.delivery.enabled=false", "--hub.config.watch=false", "--hub.journal.encryption.key=file:" + kek));
        db.forEach((k, v) -> hubArgs.add("--" + k + "=" + v));
        interfaces.properties().forEach((k, v) -> hubArgs.add("--" + k + "=" + v));
        Process hub = IntakeBenchmark.startJvm(hubArgs, "devices");
        try (Connection c = DriverManager.getConnection(db.get("spring.datasource.url"), TestDatabases.postgresUser(),
                TestDatabases.postgresPassword())) {
            IntakeBenchmark.waitForPort(httpPort, 180); // Flyway has created the schema once the hub listens
            long fill = System.nanoTime();
            try (Statement s = c.createStatement()) {
                s.execute("insert into message (interface_id, sender, control_id, dedup_key, message_type, hl7_version,"
                        + " status, received_at, caller, charset, raw, ack_code, ack, line_count, content_hash)"
                        + " select 'mercy-or', 'ORMGR^MERCY_OR', 'BULK-' || g, 'mercy-or|ORMGR^MERCY_OR|BULK-' || g,"
                        + " 'DFT^P03', '2.5.1', 'ACCEPTED', now() - g * interval '30 seconds', 'bench', 'UTF-8',"
                        + " convert_to('MSH|^~\\&|ORMGR|MERCY_OR', 'UTF8'), 'AA', 'MSA|AA|BULK-' || g, 3, md5(g::text)"
                        + " from generate_series(1, " + MESSAGES + ") g");
                // 50 device identifiers x 2,000 lots, one implant per message, 60,000 patients; every
                // LOT_EVERY-th message carries the knee component of lot LOT7781A
                s.execute("insert into device_use (message_id, interface_id, line_no, device_no, kind, di, lot, serial,"
                        + " udi_issuer, expiry, item_id, patient_system, patient_value, account, service_date)"
                        + " select id, 'mercy-or', 3, 1, 'CHARGE',"
                        + " case when id % " + LOT_EVERY + " = 0 then '" + KNEE + "' else '0088902412' || lpad((id % 50)::text, 4, '0') end,"
                        + " case when id % " + LOT_EVERY + " = 0 then '" + LOT + "' else 'LOT' || (id % 2000) end,"
                        + " 'SN' || lpad(id::text, 8, '0'), 'http://hl7.org/fhir/NamingSystem/gs1-di', date '2030-01-01',"
                        + " 'INV-300412', 'urn:oid:2.16.840.1.113883.3.9999.1', 'MRN' || (id % 60000), 'ACCT' || id, received_at"
                        + " from message where control_id like 'BULK-%'");
                fillLookupKeys(c, kek);
                s.execute("analyze device_use");
                s.execute("analyze message");
            }
            System.out.printf("filled              %d messages, %d device rows in %.1f s (SQL bulk insert)%n",
                    count(c, "select count(*) from message"), count(c, "select count(*) from device_use"),
                    (System.nanoTime() - fill) / 1e9);
            long expected = count(c, "select count(*) from device_use where di = '" + KNEE + "' and lot = '" + LOT + "'");
            String serial = "SN" + String.format("%08d", LOT_EVERY * 7);

            String sql = "select id, message_id, interface_id, line_no, device_no, kind, di, lot, serial, udi_issuer,"
                    + " expiry, item_id, patient_system, patient_value, account, service_date from device_use"
                    + " where di = ? and lot_key = ? and id > ? order by id fetch first 1000 rows only";
            System.out.println("\nplan of the lot query (EXPLAIN ANALYZE, as DeviceIndex.find runs it):");
            try (PreparedStatement p = c.prepareStatement("explain (analyze, buffers) " + sql)) {
                p.setString(1, KNEE);
                p.setString(2, LOT_KEY);
                p.setLong(3, 0);
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        System.out.println("  " + rs.getString(1));
                    }
                }
            }
            try (PreparedStatement p = c.prepareStatement("explain " + sql.replace("lot_key = ?", "serial_key = ?"))) {
                p.setString(1, KNEE);
                p.setString(2, SERIAL_KEY);
                p.setLong(3, 0);
                System.out.println("plan of the serial query:");
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        System.out.println("  " + rs.getString(1));
                    }
                }
            }

            String token = Tokens.sample(httpPort, Tokens.ADMIN, "messages:read");
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + httpPort + "/api/devices?di=" + KNEE;
            double[] lot = time(http, token, base + "&lot=" + LOT + "&limit=1000", expected);
            double[] one = time(http, token, base + "&serial=" + serial, 1);
            System.out.printf("%nGET /api/devices lot    %d patients of lot %s: median %.1f ms, p90 %.1f ms, max %.1f ms"
                    + " (%d runs after 5 warm-up)%n", expected, LOT, lot[0], lot[1], lot[2], RUNS);
            System.out.printf("GET /api/devices serial 1 use of serial %s: median %.1f ms, p90 %.1f ms, max %.1f ms%n",
                    serial, one[0], one[1], one[2]);
            System.out.printf("target              every patient of a lot in 100,000 messages in under 1 s: %s%n",
                    lot[0] < 1000 ? "met" : "NOT met");
        } finally {
            hub.destroy();
            hub.waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** Median, p90 and max in ms; checks each answer holds the expected number of uses. */
    static double[] time(HttpClient http, String token, String url, long expected) throws Exception {
        double[] ms = new double[RUNS];
        for (int i = -5; i < RUNS; i++) {
            long t = System.nanoTime();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
                    .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofString());
            double elapsed = (System.nanoTime() - t) / 1e6;
            JsonNode body = new ObjectMapper().readTree(r.body());
            if (r.statusCode() != 200 || body.path("count").asLong() != expected) {
                throw new IllegalStateException("GET " + url + ": HTTP " + r.statusCode() + ", " + body.path("count")
                        + " uses, expected " + expected);
            }
            if (i >= 0) {
                ms[i] = elapsed;
            }
        }
        Arrays.sort(ms);
        return new double[] {ms[RUNS / 2], ms[(int) Math.ceil(RUNS * 0.9) - 1], ms[RUNS - 1]};
    }

    static long count(Connection c, String sql) throws Exception {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
