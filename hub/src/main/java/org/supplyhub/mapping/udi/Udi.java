package org.supplyhub.mapping.udi;

import java.time.LocalDate;

/** A parsed Unique Device Identifier: the device identifier (DI) and the production identifiers (PI). */
public record Udi(Issuer issuer, String deviceIdentifier, String lot, String serial, LocalDate expiry,
                  LocalDate manufactured, String carrierHrf) {

    /** The issuing agencies the FDA accredits, with their FHIR udiCarrier.issuer systems. */
    public enum Issuer {
        GS1("http://hl7.org/fhir/NamingSystem/gs1-di"),
        HIBCC("http://hl7.org/fhir/NamingSystem/hibcc-dI"),
        ICCBBA("http://hl7.org/fhir/NamingSystem/iccbba-blood-di");

        private final String fhirSystem;

        Issuer(String fhirSystem) {
            this.fhirSystem = fhirSystem;
        }

        public String fhirSystem() {
            return fhirSystem;
        }
    }
}
