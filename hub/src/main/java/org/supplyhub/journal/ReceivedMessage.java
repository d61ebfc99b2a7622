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
        Long previousId,
        boolean keyedByContent) {

    /**
     * Resends are recognised per interface, by sender and control id; rejected messages are never
     * deduplicated. An ERROR row holds the key until a later attempt takes it over.
     */
    public String dedupKey() {
        // 64 bits of the SHA-256 keep the key within the journal's column (interface, sender, MSH-10 at their limits)
        return key(interfaceId, sender, keyedByContent && controlId != null && contentHash != null
                ? controlId + "#" + contentHash.substring(0, 16) : controlId, status);
    }

    public static String key(String interfaceId, String sender, String controlId, MessageStatus status) {
        return status == MessageStatus.REJECTED || controlId == null ? null : interfaceId + "|" + sender + "|" + controlId;
    }

    /** A message as it came in on an interface; say what it was answered with, then {@link Builder#build}. */
    public static Builder received(String interfaceId, Instant receivedAt, String caller, String charset, byte[] raw) {
        return new Builder(interfaceId, receivedAt, caller, charset, raw);
    }

    /** Names each of the many fields at the call site, so no two strings can trade places unseen. */
    public static final class Builder {
        private final String interfaceId;
        private final Instant receivedAt;
        private final String caller;
        private final String charset;
        private final byte[] raw;
        private String sender;
        private String controlId;
        private boolean keyedByContent;
        private String messageType;
        private String hl7Version;
        private String contentHash;

        private Builder(String interfaceId, Instant receivedAt, String caller, String charset, byte[] raw) {
            this.interfaceId = interfaceId;
            this.receivedAt = receivedAt;
            this.caller = caller;
            this.charset = charset;
            this.raw = raw;
        }

        /** MSH-3^MSH-4, MSH-10, MSH-9 (type^event) and MSH-12, as far as they could be read. */
        public Builder header(String sender, String controlId, String messageType, String hl7Version) {
            this.sender = sender;
            this.controlId = controlId;
            this.messageType = messageType;
            this.hl7Version = hl7Version;
            return this;
        }

        public Builder contentHash(String contentHash) {
            this.contentHash = contentHash;
            return this;
        }

        /**
         * True for an interface whose sender reuses control ids: the message is then identified by
         * MSH-10 and its content hash, not MSH-10 alone.
         */
        public Builder keyedByContent(boolean keyedByContent) {
            this.keyedByContent = keyedByContent;
            return this;
        }

        /** The journal row: answered {@code ackCode} with {@code ack}, {@code error} saying why when not AA. */
        public ReceivedMessage answered(MessageStatus status, String ackCode, String ack, String error) {
            return new ReceivedMessage(interfaceId, sender, controlId, messageType, hl7Version, status, receivedAt,
                    caller, charset, raw, ackCode, ack, error, contentHash, null, keyedByContent);
        }
    }

    /** The same message as a new attempt superseding {@code previous}. */
    public ReceivedMessage superseding(long previous) {
        return new ReceivedMessage(interfaceId, sender, controlId, messageType, hl7Version, status, receivedAt, caller,
                charset, raw, ackCode, ack, error, contentHash, previous, keyedByContent);
    }

    /** The same message identified by another content hash (the journal's keyed form of it). */
    ReceivedMessage withContentHash(String hash) {
        return new ReceivedMessage(interfaceId, sender, controlId, messageType, hl7Version, status, receivedAt, caller,
                charset, raw, ackCode, ack, error, hash, previousId, keyedByContent);
    }
}
