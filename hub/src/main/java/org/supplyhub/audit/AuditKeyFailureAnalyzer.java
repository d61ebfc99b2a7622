package org.supplyhub.audit;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;

/**
 * A start-up stopped by the audit signing key (not set where nodes share a database, missing, or not a
 * matching Ed25519 pair) says so in one paragraph naming the property, not in a bean-creation stack trace.
 */
public class AuditKeyFailureAnalyzer extends AbstractFailureAnalyzer<SigningKeys.AuditKeyException> implements Ordered {

    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, SigningKeys.AuditKeyException cause) {
        return new FailureAnalysis("The audit signing key is not usable:\n\n" + cause.getMessage(),
                "Set " + AuditChainService.SIGNING_KEY_PROPERTY + " to file:PATH of the Ed25519 private key (PKCS#8 PEM,"
                        + " its public key beside it as <name>.pub.pem) that every node of this database shares:"
                        + " openssl genpkey -algorithm ed25519 -out audit-signing-key.pem && openssl pkey -in"
                        + " audit-signing-key.pem -pubout -out audit-signing-key.pub.pem", null);
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
