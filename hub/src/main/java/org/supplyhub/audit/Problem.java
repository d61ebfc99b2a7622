package org.supplyhub.audit;

/**
 * Something wrong with the audit chain: which row ({@code id}, its {@code seq}) or which checkpoint, and what.
 */
public record Problem(Kind kind, Long id, Long seq, Long checkpointId, String detail) {

    public enum Kind {
        /** A sealed row's columns were changed. */
        CONTENT_CHANGED,
        /** Rows are gone from the chain (deleted, or unsealed by hand), in the middle or at the end. */
        ROW_MISSING,
        /** A row is not where its link says: rows swapped, moved or replaced. */
        ORDER_CHANGED,
        /** The chain at a checkpoint's seq is not what the signed checkpoint recorded: rewritten. */
        CHECKPOINT_MISMATCH,
        /** A checkpoint's signature does not verify with a trusted public key. */
        CHECKPOINT_SIGNATURE_INVALID,
        /** The head row does not match the chain's last row. */
        HEAD_MISMATCH,
        /** The anchor after pruning is covered by no valid signed checkpoint. */
        ANCHOR_UNSIGNED
    }
}
