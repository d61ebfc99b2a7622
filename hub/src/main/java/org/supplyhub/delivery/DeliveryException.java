package org.supplyhub.delivery;

/** A send that failed: retried later, unless {@code permanent} (the destination will never take it). */
public class DeliveryException extends Exception {

    private final boolean permanent;
    private final String code;

    public DeliveryException(String message, String code, boolean permanent, Throwable cause) {
        super(message, cause);
        this.code = code;
        this.permanent = permanent;
    }

    public boolean permanent() {
        return permanent;
    }

    public String code() {
        return code;
    }
}
