package org.supplyhub.ops;

/**
 * Where the run's receivers listen, all on 127.0.0.1: billing (MLLP, DFT^P03), inventory (HTTP,
 * stock movement JSON POSTed to {@link #inventoryUrl()}), FHIR server (transactions POSTed to the
 * base URL {@link #fhirBaseUrl()}). The stack's destinations point at exactly these URLs.
 */
public record ReceiverPorts(int billingMllp, int inventoryHttp, int fhirHttp) {

    /** The path the inventory receiver serves (as in the end-to-end benchmark). */
    public static final String INVENTORY_PATH = "/stock";
    /** The FHIR server's base path (as {@code FhirTestServer}). */
    public static final String FHIR_PATH = "/fhir";

    public String billingUrl() {
        return "mllp://127.0.0.1:" + billingMllp;
    }

    public String inventoryUrl() {
        return "http://127.0.0.1:" + inventoryHttp + INVENTORY_PATH;
    }

    public String fhirBaseUrl() {
        return "http://127.0.0.1:" + fhirHttp + FHIR_PATH;
    }
}
