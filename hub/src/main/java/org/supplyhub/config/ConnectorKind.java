package org.supplyhub.config;

/** How a destination is reached: the connector that sends its deliveries. */
public enum ConnectorKind { FILE, HTTP, MLLP, FHIR }
