package org.supplyhub.delivery;

import org.supplyhub.config.DestinationDefinition;

/** Sends one rendered delivery to a destination. */
public interface Connector {

    /**
     * @return a short outcome code for the attempt journal (file name, ACK code, HTTP status…)
     * @throws DeliveryException when the destination did not take it
     */
    String send(DestinationDefinition destination, Payload payload) throws DeliveryException;

    /**
     * Makes the sends that returned so far durable, once for a group of them, before they are
     * settled DELIVERED (a file destination syncs its directory). Sends over the network are
     * durable when the receiver answers: nothing to do.
     *
     * @throws DeliveryException when that cannot be promised: the group is retried
     */
    default void flush(DestinationDefinition destination) throws DeliveryException {
    }

    /** What to send; {@code idempotencyKey} is the same on every retry of the same outbox row. */
    record Payload(String idempotencyKey, long messageId, String contentType, String extension, byte[] body) {
    }
}
