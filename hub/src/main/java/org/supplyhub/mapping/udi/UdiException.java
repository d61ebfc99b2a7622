package org.supplyhub.mapping.udi;

/** A UDI that cannot be read; the message says exactly what is wrong with it. */
public class UdiException extends RuntimeException {
    public UdiException(String message) {
        super(message);
    }
}
