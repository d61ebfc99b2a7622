package org.supplyhub.ops;

/** Where the run's receivers listen: billing (MLLP, DFT), inventory (HTTP JSON), FHIR server (HTTP). */
public record ReceiverPorts(int billingMllp, int inventoryHttp, int fhirHttp) {
}
