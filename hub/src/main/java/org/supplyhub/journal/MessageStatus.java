package org.supplyhub.journal;

/** What became of a received message. */
public enum MessageStatus {
    /** Mapped and journaled with its outputs and outbox rows; answered AA. */
    ACCEPTED,
    /** Parsed but not mappable (unknown item, bad UDI…); answered AE; a resend or a reprocess supersedes it. */
    ERROR,
    /** Not a message we can take (unparseable, wrong type, no control id); answered AR; kept for forensics. */
    REJECTED
}
