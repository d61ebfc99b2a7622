package org.supplyhub.audit;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;

/**
 * A start-up stopped by the audit signing key (missing, unreadable, a public key that is not its pair)
 * says so in one paragraph naming the properties, not in a bean-creation stack trace.
 */
public class AuditKeyFailureAnalyzer extends AbstractFailureAnalyzer<SigningKeys.AuditKeyException> implements Ordered {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, SigningKeys.AuditKeyException cause) {
        return new FailureAnalysis("The audit signing key is not usable:\n\n" + cause.getMessage(),
                "Set hub.audit.signing-key to an Ed25519 private key (PKCS#8 PEM) with its public key beside it"
                        + " (<name>.pub.pem), and hub.audit.verify-keys to the public keys of retired ones; or leave"
                        + " hub.audit.signing-key empty to have one made under ./data. Then start again.", cause);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
