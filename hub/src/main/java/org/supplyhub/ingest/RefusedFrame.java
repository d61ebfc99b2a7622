package org.supplyhub.ingest;

/**
 * A frame the decoder refused for how it arrived rather than for its size ({@link OversizedFrame}):
 * only its head is kept, to read MSH for the AR. {@code length}: the payload bytes seen.
 */
public record RefusedFrame(byte[] head, long length, Reason reason) {

    public enum Reason {
        /** Taking it would have held more than {@code hub.mllp.max-buffered} in unfinished frames. */
        BUSY("the hub holds too many unfinished MLLP frames right now; the message was not accepted, resend it later"),
        /** Ended with FS alone (FS then VT, or nothing after FS within the grace) on a strict listener. */
        NO_CR("the MLLP frame did not end with FS CR (0x1C 0x0D); the message was not accepted");

        private final String text;

        Reason(String text) {
            this.text = text;
        }

        /** What the sender is told (ERR). */
        public String text() {
            return text;
        }
    }
}
