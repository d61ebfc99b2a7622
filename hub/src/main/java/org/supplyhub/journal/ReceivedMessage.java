package org.supplyhub.journal;

import java.time.Instant;

/** One message as journaled, with the ACK it was answered. */
public record ReceivedMessage(
        String interfaceId,
        String sender,
        String controlId,
        String messageType,
        String hl7Version,
        MessageStatus status,
        Instant receivedAt,
        String caller,
        String charset,
        byte[] raw,
        String ackCode,
        String ack,
        String error) {

    /** Resends are recognised by sender and control id; rejected messages are never deduplicated. */
    public String dedupKey() {
        return status == MessageStatus.REJECTED || controlId == null ? null : sender + "|" + controlId;
    }
}
