package org.supplyhub.mapping;

/** A broken interface, mapping or crosswalk file; the message names the file, line and problem. */
public class ConfigurationException extends RuntimeException {
    public ConfigurationException(String message) {
        super(message);
    }

    public ConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
