package org.supplyhub.ingest;

import org.supplyhub.journal.MessageStatus;

import java.nio.charset.Charset;

/**
 * What to answer the sender: the ACK text and the charset to encode it in. {@code status} is null
 * when nothing new was journaled (a resend answered with its original ACK, or storage failure).
 */
public record IntakeResult(String ackCode, String ack, Charset charset, MessageStatus status, boolean duplicate) {

    public byte[] ackBytes() {
        return ack.getBytes(charset);
    }
}
