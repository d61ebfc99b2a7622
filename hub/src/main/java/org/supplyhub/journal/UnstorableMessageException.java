package org.supplyhub.journal;

import org.springframework.dao.NonTransientDataAccessException;

/**
 * The database refused the message's own content (a constraint or a value it cannot hold) although
 * the journal bounds what it writes: a problem of the message, not an outage — resending it will
 * not help, so it must not be answered "resend later".
 */
public class UnstorableMessageException extends NonTransientDataAccessException {
    public UnstorableMessageException(String msg) {
        super(msg);
    }
}
