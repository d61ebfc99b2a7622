package org.supplyhub.journal;

/** A stored message cannot be superseded by a new revision in its current state (why is safe to show). */
public class ReprocessConflictException extends RuntimeException {
    public ReprocessConflictException(String reason) {
        super(reason);
    }
}
