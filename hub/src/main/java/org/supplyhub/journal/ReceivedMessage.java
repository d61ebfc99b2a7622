package org.supplyhub.journal;

import java.time.Instant;

/**
 * One message as journaled, with the ACK it was answered. {@code contentHash} identifies the
 * message as sent (minus what a resend may change); {@code previousId} is the attempt this one
 * supersedes (a resend of an ERROR message, or a reprocess), else null.
 */
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
        String error,
        String contentHash,
        Long previousId) {

    /**
     * Resends are recognised per interface, by sender and control id; rejected messages are never
     * deduplicated. An ERROR row holds the key until a later attempt takes it over.
     */
    public String dedupKey() {
        return key(interfaceId, sender, controlId, status);
    }

    public static String key(String interfaceId, String sender, String controlId, MessageStatus status) {
        return status == MessageStatus.REJECTED || controlId == null ? null : interfaceId + "|" + sender + "|" + controlId;
    }

    /** The same message as a new attempt superseding {@code previous}. */
    public ReceivedMessage superseding(long previous) {
        return new ReceivedMessage(interfaceId, sender, controlId, messageType, hl7Version, status, receivedAt, caller,
                charset, raw, ackCode, ack, error, contentHash, previous);
    }
}
