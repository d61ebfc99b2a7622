package org.supplyhub.cli;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.context.support.DefaultProfileValidationSupport;
import ca.uhn.fhir.validation.FhirValidator;
import ca.uhn.fhir.validation.ResultSeverityEnum;
import ca.uhn.fhir.validation.SingleValidationMessage;
import org.hl7.fhir.common.hapi.validation.support.CommonCodeSystemsTerminologyService;
import org.hl7.fhir.common.hapi.validation.support.InMemoryTerminologyServerValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.SnapshotGeneratingValidationSupport;
import org.hl7.fhir.common.hapi.validation.support.ValidationSupportChain;
import org.hl7.fhir.common.hapi.validation.validator.FhirInstanceValidator;
import org.hl7.fhir.instance.model.api.IBaseResource;

import java.util.List;

/**
 * HAPI's FhirValidator against the base R4 profiles: what {@code try} reports and what the tests
 * ({@code support/R4Validator}) hold every produced resource to. Built on first use: loading the R4
 * definitions takes seconds.
 */
public final class R4Validation {

    /** An error or warning about one resource. */
    record Issue(ResultSeverityEnum severity, String location, String message) {
        boolean error() {
            return severity == ResultSeverityEnum.ERROR || severity == ResultSeverityEnum.FATAL;
        }

        @Override
        public String toString() {
            return severity.name() + " " + location + ": " + message;
        }
    }

    private static FhirValidator validator;

    private R4Validation() {
    }

    public static synchronized FhirValidator validator() {
        if (validator == null) {
            FhirContext ctx = FhirContext.forR4Cached();
            ValidationSupportChain chain = new ValidationSupportChain(
                    new DefaultProfileValidationSupport(ctx),
                    new CommonCodeSystemsTerminologyService(ctx),
                    new InMemoryTerminologyServerValidationSupport(ctx),
                    new SnapshotGeneratingValidationSupport(ctx));
            validator = ctx.newValidator().registerValidatorModule(new FhirInstanceValidator(chain));
        }
        return validator;
    }

    /** Errors and warnings (information is left out). */
    static List<Issue> check(IBaseResource resource) {
        return validator().validateWithResult(resource).getMessages().stream()
                .filter(m -> m.getSeverity() != ResultSeverityEnum.INFORMATION)
                .map(R4Validation::issue)
                .toList();
    }

    private static Issue issue(SingleValidationMessage m) {
        return new Issue(m.getSeverity(), m.getLocationString(), m.getMessage());
    }
}
