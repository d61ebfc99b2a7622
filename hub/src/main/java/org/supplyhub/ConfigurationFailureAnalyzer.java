package org.supplyhub;

import org.supplyhub.mapping.ConfigurationException;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;

/**
 * A start-up stopped by broken configuration prints its {@code file: line N: problem} lines once,
 * under Spring Boot's "APPLICATION FAILED TO START", instead of inside a hundred lines of bean
 * creation stack trace. Registered in {@code META-INF/spring.factories}.
 */
public class ConfigurationFailureAnalyzer extends AbstractFailureAnalyzer<ConfigurationException> implements Ordered {

    /**
     * Reports the innermost ConfigurationException of the chain: it was thrown where the problem
     * was found and names that file; outer ones only add where it was being loaded from (a route
     * that uses the profile), which would blame the wrong file.
     */
    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ConfigurationException outermost) {
        ConfigurationException cause = outermost;
        for (Throwable t = outermost.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof ConfigurationException inner) {
                cause = inner;
            }
        }
        int count = cause.problems().size();
        String description = "The configuration has " + (count == 1 ? "a problem" : count + " problems") + ":\n\n"
                + cause.getMessage();
        String action = "Correct the file" + (count == 1 ? "" : "s") + " named above and start again. To check the"
                + " routes and mappings without starting the hub: java -jar hub-<version>.jar validate";
        return new FailureAnalysis(description, action, cause);
    }

    /** Before Spring's own analyzers, which would describe the bean that failed rather than why. */
    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }
}
