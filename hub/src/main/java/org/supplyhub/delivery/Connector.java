package org.supplyhub.delivery;

/** Sends one rendered delivery to a destination. */
public interface Connector {

    enum Kind { FILE, HTTP, MLLP, FHIR }

    /**
     * @return a short outcome code for the attempt journal (file name, ACK code, HTTP status…)
     * @throws DeliveryException when the destination did not take it
     */
    String send(DestinationDefinition destination, Payload payload) throws DeliveryException;

    /** What to send; {@code idempotencyKey} is the same on every retry of the same outbox row. */
    record Payload(String idempotencyKey, long messageId, String contentType, String extension, byte[] body) { }
}
