package org.supplyhub.journal;

/**
 * The interface, sender and control id were journaled already as ACCEPTED (possibly by another
 * node, concurrently). Carries that row, so the caller can compare content and answer its ACK.
 */
public class DuplicateMessageException extends RuntimeException {

    private final Journal.Existing existing;

    public DuplicateMessageException(Journal.Existing existing) {
        super("already journaled as message " + existing.id());
        this.existing = existing;
    }

    public Journal.Existing existing() {
        return existing;
    }
}
