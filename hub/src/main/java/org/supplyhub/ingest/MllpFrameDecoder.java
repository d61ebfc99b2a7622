package org.supplyhub.ingest;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.Channel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.AttributeKey;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * MLLP framing (VT … FS CR) with a size limit. Emits each frame's payload as {@code byte[]}, or an
 * {@link OversizedFrame} once a frame passes the limit. Frames that arrive in one TCP read are all
 * emitted, each gets its own answer (camel-mllp 4.17 drops the second: CAMEL-24668).
 * camel-hl7's Netty decoder has no size limit, hence this one.
 */
public final class MllpFrameDecoder extends ByteToMessageDecoder {

    static final byte START = 0x0b;
    static final byte END = 0x1c;
    static final byte CR = 0x0d;
    static final int HEAD = 4096;
    /** Frames of this connection not answered yet: the idle timeout does not close a connection that waits for its ACK. */
    static final AttributeKey<AtomicInteger> UNANSWERED = AttributeKey.valueOf("supplyhub.mllp.unanswered");

    private final int maxFrameBytes;
    private boolean inFrame;
    private int scanned;          // payload bytes already searched for END
    private byte[] discardedHead; // non-null while discarding an oversized frame
    private long discarded;

    public MllpFrameDecoder(int maxFrameBytes) {
        this.maxFrameBytes = maxFrameBytes;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            if (!inFrame) {
                int start = in.indexOf(in.readerIndex(), in.writerIndex(), START);
                if (start < 0) {
                    in.skipBytes(in.readableBytes()); // noise between frames
                    return;
                }
                in.readerIndex(start + 1);
                inFrame = true;
                scanned = 0;
            }
            int end = findEnd(in);
            if (end < 0) {
                if (discardedHead == null && in.readableBytes() > maxFrameBytes) {
                    discardedHead = new byte[Math.min(HEAD, in.readableBytes())];
                    in.getBytes(in.readerIndex(), discardedHead);
                }
                if (discardedHead != null) {
                    // keep a trailing FS: it may be the first half of the end marker
                    int drop = in.readableBytes() - (in.getByte(in.writerIndex() - 1) == END ? 1 : 0);
                    discarded += drop;
                    in.skipBytes(drop);
                    scanned = 0;
                }
                return;
            }
            int length = end - in.readerIndex();
            if (discardedHead != null || length > maxFrameBytes) {
                byte[] head = discardedHead;
                if (head == null) {
                    head = new byte[Math.min(HEAD, length)];
                    in.getBytes(in.readerIndex(), head);
                }
                out.add(new OversizedFrame(head, discarded + length, maxFrameBytes));
                unanswered(ctx.channel()).incrementAndGet();
                in.skipBytes(length + 2);
            } else {
                byte[] payload = new byte[length];
                in.readBytes(payload);
                in.skipBytes(2);
                out.add(payload);
                unanswered(ctx.channel()).incrementAndGet();
            }
            inFrame = false;
            discardedHead = null;
            discarded = 0;
        }
    }

    static AtomicInteger unanswered(Channel channel) {
        AtomicInteger n = channel.attr(UNANSWERED).get();
        if (n == null) {
            n = new AtomicInteger();
            AtomicInteger raced = channel.attr(UNANSWERED).setIfAbsent(n);
            n = raced == null ? n : raced;
        }
        return n;
    }

    /** Index of the FS of the FS CR end marker, or -1 if it has not arrived yet. */
    private int findEnd(ByteBuf in) {
        int from = in.readerIndex() + scanned;
        while (true) {
            int fs = in.indexOf(from, in.writerIndex(), END);
            if (fs < 0) {
                scanned = in.readableBytes();
                return -1;
            }
            if (fs + 1 >= in.writerIndex()) {
                scanned = fs - in.readerIndex();
                return -1;
            }
            if (in.getByte(fs + 1) == CR) {
                return fs;
            }
            from = fs + 1; // a stray FS inside the payload
        }
    }
}
