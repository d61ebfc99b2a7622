package org.supplyhub.journal;

/** The same sender and control id were journaled already (possibly by another node, concurrently). */
public class DuplicateMessageException extends RuntimeException {
    public DuplicateMessageException(String dedupKey) {
        super("already journaled: " + dedupKey);
    }
}
