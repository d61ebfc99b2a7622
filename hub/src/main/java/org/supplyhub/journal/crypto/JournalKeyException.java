package org.supplyhub.journal.crypto;

/**
 * The journal's keys are missing, wrong or unusable: start-up stops with this message (naming the
 * property to fix) rather than store data nobody can read. Never carries key material.
 */
public class JournalKeyException extends RuntimeException {

    public JournalKeyException(String message) {
        super(message);
    }

    public JournalKeyException(String message, Throwable cause) {
        super(message, cause);
    }
}
