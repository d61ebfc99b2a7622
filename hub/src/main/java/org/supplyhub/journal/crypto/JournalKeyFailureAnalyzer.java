package org.supplyhub.journal.crypto;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;

/**
 * A start-up stopped by the journal's keys (missing, unreadable, or not the key the journal was
 * written with) says so in one paragraph naming the property, not in a bean-creation stack trace.
 */
public class JournalKeyFailureAnalyzer extends AbstractFailureAnalyzer<JournalKeyException> implements Ordered {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, JournalKeyException cause) {
        return new FailureAnalysis("The journal's encryption keys are not usable:\n\n" + cause.getMessage(),
                "Set " + KeyRing.KEY_PROPERTY + " to file:PATH or env:NAME holding the base64 256-bit key the journal"
                        + " was written with (keys being rotated out go in " + KeyRing.OLD_KEYS_PROPERTY
                        + "), and start again. The hub stored nothing.", null);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
