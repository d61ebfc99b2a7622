package org.supplyhub.mapping.structure;

/** An HL7 version HAPI has no model for, or a message type that version does not define. */
public class UnknownMessageStructureException extends RuntimeException {
    public UnknownMessageStructureException(String message) {
        super(message);
    }
}
