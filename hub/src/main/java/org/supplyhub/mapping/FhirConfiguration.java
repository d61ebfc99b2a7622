package org.supplyhub.mapping;

import ca.uhn.fhir.context.FhirContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration
public class FhirConfiguration {

    @Bean
    FhirContext fhirContext() {
        return newContext();
    }

    /** The R4 context the hub encodes its resources with (the journal, and {@code try}, which must match it). */
    public static FhirContext newContext() {
        FhirContext context = FhirContext.forR4();
        // our references are urn:uuid or identifiers; skipping the contained-resource scan halves encoding time
        context.getParserOptions().setAutoContainReferenceTargetsWithNoId(false);
        return context;
    }
}
