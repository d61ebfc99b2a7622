package org.supplyhub.audit;

import java.util.HexFormat;

/**
 * Checks audit rows one by one in chain order from a starting point (the anchor, or a checkpoint): each
 * must take the next place, name the previous row's hash, and hash to its stored hash.
 */
final class ChainWalk {

    private long expectedSeq;
    private String prev;
    private long rows;

    ChainWalk(long afterSeq, String afterHash) {
        this.expectedSeq = afterSeq + 1;
        this.prev = afterHash;
    }

    /** The problem with this row, or null; the walk goes on from the row either way. */
    Problem accept(AuditRow row) {
        rows++;
        long seq = row.seq();
        Problem problem = null;
        if (seq < expectedSeq) {
            problem = new Problem(Problem.Kind.ORDER_CHANGED, row.id(), seq, null,
                    "seq " + seq + " again after seq " + (expectedSeq - 1) + ": two rows claim one place");
            return problem; // keep following the first row that held the place
        }
        if (seq > expectedSeq) {
            problem = new Problem(Problem.Kind.ROW_MISSING, row.id(), seq, null,
                    (seq - expectedSeq == 1 ? "the row with seq " + expectedSeq + " is missing"
                            : "the rows with seq " + expectedSeq + " to " + (seq - 1) + " are missing")
                            + " before this row (deleted, or unsealed by hand)");
        } else if (!prev.equals(row.prevHash())) {
            problem = new Problem(Problem.Kind.ORDER_CHANGED, row.id(), seq, null,
                    "prev_hash does not match the hash of the row before it (seq " + (seq - 1)
                            + "): rows moved, swapped or replaced");
        }
        String linkedTo = isHash(row.prevHash()) ? row.prevHash() : prev;
        if (!isHash(row.hash()) || !ChainHash.of(linkedTo, row).equals(row.hash())) {
            Problem content = new Problem(Problem.Kind.CONTENT_CHANGED, row.id(), seq, null,
                    "the row's columns do not hash to its stored hash: content changed after sealing");
            problem = problem == null ? content : problem;
        }
        expectedSeq = seq + 1;
        prev = row.hash() == null ? "" : row.hash();
        return problem;
    }

    long lastSeq() {
        return expectedSeq - 1;
    }

    String lastHash() {
        return prev;
    }

    long rows() {
        return rows;
    }

    static boolean isHash(String value) {
        if (value == null || value.length() != 64) {
            return false;
        }
        try {
            HexFormat.of().parseHex(value);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
