package org.supplyhub.journal;

import org.springframework.dao.DataAccessResourceFailureException;

/** The journal could not be written and nothing was committed (no connection, statement failed, shutdown). */
public class JournalUnavailableException extends DataAccessResourceFailureException {
    public JournalUnavailableException(String msg) {
        super(msg);
    }
}
