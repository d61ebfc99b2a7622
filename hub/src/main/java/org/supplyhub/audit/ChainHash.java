package org.supplyhub.audit;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;

/**
 * The chain's hash of one audit row: SHA-256 over a domain tag, the previous row's hash and a canonical,
 * unambiguous encoding of every column. Each field is written in a fixed order as a presence byte then a
 * big-endian long or a length-prefixed UTF-8 string, so no two different rows encode alike (a null is not
 * an empty string, "ab"+"c" is not "a"+"bc"). Time is whole microseconds since the epoch: what both
 * PostgreSQL and H2 keep of a {@code timestamp with time zone}.
 */
public final class ChainHash {

    /** The previous hash of the first row ever sealed. */
    public static final String GENESIS = "0".repeat(64);

    private static final byte[] DOMAIN = "supplyhub-audit-chain/1".getBytes(StandardCharsets.US_ASCII);
    private static final HexFormat HEX = HexFormat.of();

    private ChainHash() {
    }

    /** The hash of {@code row} at its {@code seq}, following {@code prevHash} (64 hex digits). */
    public static String of(String prevHash, AuditRow row) {
        if (row.seq() == null) {
            throw new IllegalArgumentException("row " + row.id() + " has no place in the chain");
        }
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(DOMAIN);
            sha.update(HEX.parseHex(prevHash));
            sha.update(encode(row));
            return HEX.formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /** The canonical encoding of the row's columns (its chain columns prev_hash and hash excluded). */
    static byte[] encode(AuditRow row) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            number(out, row.id());
            number(out, row.seq());
            number(out, micros(row.at()));
            text(out, row.actor());
            text(out, row.action());
            text(out, row.interfaceId());
            text(out, row.target());
            text(out, row.outcome());
            text(out, row.detail());
            number(out, row.messageId());
            text(out, row.patientKey());
            text(out, row.source());
            number(out, (long) row.eventCount());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // not with a byte array
        }
        return bytes.toByteArray();
    }

    /** Whole microseconds since the epoch (floor), the precision stored. */
    public static long micros(Instant at) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, at.truncatedTo(ChronoUnit.MICROS));
    }

    private static void number(DataOutputStream out, Long value) throws IOException {
        out.writeByte(value == null ? 0 : 1);
        if (value != null) {
            out.writeLong(value);
        }
    }

    private static void text(DataOutputStream out, String value) throws IOException {
        out.writeByte(value == null ? 0 : 1);
        if (value != null) {
            byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
            out.writeInt(utf8.length);
            out.write(utf8);
        }
    }
}
