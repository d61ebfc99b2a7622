package org.supplyhub.support;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import ca.uhn.fhir.validation.ValidationResult;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.supplyhub.cli.R4Validation;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** HAPI's FhirValidator against the base R4 profiles: every produced resource must have no errors. */
public final class R4Validator {

    private R4Validator() {
    }

    /** The hub's own validator (the one {@code try} uses), so tests and the workbench judge alike. */
    private static FhirValidator validator() {
        return R4Validation.validator();
    }

    /** Errors (and fatals) the validator reports for the resource. */
    public static List<String> errors(IBaseResource resource) {
        ValidationResult result = validator().validateWithResult(resource);
        return result.getMessages().stream()
                .filter(m -> m.getSeverity() == ResultSeverityEnum.ERROR || m.getSeverity() == ResultSeverityEnum.FATAL)
                .map(SingleValidationMessage::toString)
                .toList();
    }

    public static void assertValid(IBaseResource resource) {
        assertThat(errors(resource)).as("FhirValidator errors for %s", resource.getIdElement().getValue()).isEmpty();
    }

    public static void assertValid(String json) {
        assertValid(FhirContext.forR4Cached().newJsonParser().parseResource(json));
    }
}
