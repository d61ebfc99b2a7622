package org.supplyhub.journal;

import org.springframework.dao.DataAccessResourceFailureException;

/**
 * The journal lost the database while committing, or the commit did not finish in time: the
 * message may or may not be stored. The sender must resend; a resend is answered from the journal
 * if it was stored.
 */
public class CommitOutcomeUnknownException extends DataAccessResourceFailureException {
    public CommitOutcomeUnknownException(String msg) {
        super(msg);
    }
}
