package org.supplyhub.mapping;

import ca.uhn.fhir.context.FhirContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

@Configuration
public class FhirConfiguration {

    @Bean
    FhirContext fhirContext() {
        FhirContext context = FhirContext.forR4();
        // our references are urn:uuid or identifiers; skipping the contained-resource scan halves encoding time
        context.getParserOptions().setAutoContainReferenceTargetsWithNoId(false);
        return context;
    }
}
