package org.supplyhub.journal;

/** One FHIR resource produced from a message, as JSON. */
public record JournalOutput(int lineNo, String resourceType, String resourceId, String json) { }
