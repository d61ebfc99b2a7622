package org.supplyhub.ingest;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.ScheduledFuture;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * MLLP framing (VT … FS CR) with a size limit. Emits each frame's payload as {@code byte[]}, an
 * {@link OversizedFrame} once a frame passes the limit, or a {@link RefusedFrame} for a frame that
 * would take the hub over its budget for unfinished frames or (strict listeners) did not end with
 * FS CR. Frames that arrive in one TCP read are all emitted, each gets its own answer (camel-mllp
 * 4.17 drops the second: CAMEL-24668). camel-hl7's Netty decoder has no size limit, hence this one.
 * <p>
 * Where the end is, strictly: FS CR ends a frame; FS then VT ends it without CR (refused, and the VT
 * starts the next); FS then anything else is a stray FS inside the payload; a final FS waits
 * {@link Framing#endGrace} for its CR and is refused if nothing comes, so a sender that ends frames
 * with FS alone is told so instead of waiting for the idle timeout. With {@code fsEndsFrame} any FS
 * ends the frame and a CR after it is skipped like any byte between frames.
 */
public final class MllpFrameDecoder extends ByteToMessageDecoder {

    static final byte START = 0x0b;
    static final byte END = 0x1c;
    static final byte CR = 0x0d;
    static final int HEAD = 4096;
    /** Frames of this connection not answered yet: the idle timeout does not close a connection that waits for its ACK. */
    static final AttributeKey<AtomicInteger> UNANSWERED = AttributeKey.valueOf("supplyhub.mllp.unanswered");

    /**
     * How a listener frames: the size limit, whether FS alone ends a frame, how long a final FS waits
     * for its CR (strict), and the hub-wide budget for unfinished frames.
     */
    public record Framing(int maxFrameBytes, boolean fsEndsFrame, Duration endGrace, UnfinishedFrameBudget budget) {
        public Framing {
            Objects.requireNonNull(endGrace);
            Objects.requireNonNull(budget);
        }

        /** MLLP as written, no budget: for tests of the framing alone. */
        public static Framing strict(int maxFrameBytes) {
            return new Framing(maxFrameBytes, false, Duration.ofSeconds(1), UnfinishedFrameBudget.unlimited());
        }

        public Framing withFsEndsFrame(boolean fsAlone) {
            return new Framing(maxFrameBytes, fsAlone, endGrace, budget);
        }

        public Framing withBudget(UnfinishedFrameBudget shared) {
            return new Framing(maxFrameBytes, fsEndsFrame, endGrace, shared);
        }

        public Framing withEndGrace(Duration grace) {
            return new Framing(maxFrameBytes, fsEndsFrame, grace, budget);
        }
    }

    private final Function<Channel, Framing> select;
    private Framing framing;
    private ChannelHandlerContext context;

    private boolean inFrame;
    private int scanned;              // payload bytes already searched for the end
    private int endLength;            // of the end just found: 2 (FS CR) or 1 (FS alone)
    private byte[] discardedHead;     // non-null while discarding a refused frame (too long, or over budget)
    private RefusedFrame.Reason discardReason; // null: discarded for its size
    private long discarded;
    private boolean fsSkipped;        // discarding: the last byte skipped was an FS, its CR may come next
    private long held;                // bytes of the budget this connection holds
    private ScheduledFuture<?> grace;

    public MllpFrameDecoder(int maxFrameBytes) {
        this(Framing.strict(maxFrameBytes));
    }

    public MllpFrameDecoder(Framing framing) {
        this(channel -> framing);
    }

    /** Framing chosen per connection (by the listener it arrived on). */
    public MllpFrameDecoder(Function<Channel, Framing> select) {
        this.select = select;
    }

    private Framing framing(ChannelHandlerContext ctx) {
        if (framing == null) {
            framing = select.apply(ctx.channel());
            context = ctx;
        }
        return framing;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        framing(ctx);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        Framing f = framing(ctx);
        cancelGrace();
        try {
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
                if (fsSkipped) {
                    // discarding, and the previous read ended with an FS: does this read end the frame?
                    fsSkipped = false;
                    byte next = in.getByte(in.readerIndex());
                    if (next == CR || next == START) {
                        in.skipBytes(next == CR ? 1 : 0);
                        emit(ctx, out, discardedFrame(0));
                        continue;
                    }
                }
                int end = findEnd(in, f);
                if (end < 0) {
                    unfinished(ctx, in, f);
                    return;
                }
                int length = end - in.readerIndex();
                Object frame;
                if (discardedHead != null || length > f.maxFrameBytes()) {
                    if (discardedHead == null) {
                        discardedHead = head(in, length);
                    }
                    frame = discardedFrame(length);
                    in.skipBytes(length);
                } else if (endLength == 1 && !f.fsEndsFrame()) {
                    frame = new RefusedFrame(head(in, length), length, RefusedFrame.Reason.NO_CR);
                    in.skipBytes(length);
                } else {
                    byte[] payload = new byte[length];
                    in.readBytes(payload);
                    frame = payload;
                }
                in.skipBytes(endLength);
                emit(ctx, out, frame);
            }
        } finally {
            account(in, f);
        }
    }

    /** The frame has not ended with what has arrived: keep it, or discard it as it comes. */
    private void unfinished(ChannelHandlerContext ctx, ByteBuf in, Framing f) {
        if (discardedHead == null && in.readableBytes() > f.maxFrameBytes()) {
            discardedHead = head(in, in.readableBytes());
        } else if (discardedHead == null && !f.budget().tryResize(held, in.capacity())) {
            discardedHead = head(in, in.readableBytes());
            discardReason = RefusedFrame.Reason.BUSY;
        } else if (discardedHead == null) {
            held = in.capacity();
        }
        boolean finalFs = in.getByte(in.writerIndex() - 1) == END;
        if (discardedHead != null) {
            // nothing of a refused frame is kept: a trailing FS is remembered, not held
            fsSkipped = finalFs && !f.fsEndsFrame();
            discarded += in.readableBytes() - (fsSkipped ? 1 : 0);
            in.skipBytes(in.readableBytes());
            scanned = 0;
        }
        if (finalFs && !f.fsEndsFrame()) {
            grace = ctx.executor().schedule(this::graceOver, f.endGrace().toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** A final FS got no CR within the grace: the sender ends frames with FS alone; refuse the frame. */
    private void graceOver() {
        grace = null;
        ChannelHandlerContext ctx = context;
        ByteBuf in = internalBuffer();
        Object frame;
        if (fsSkipped) {
            fsSkipped = false;
            frame = discardedFrame(0);
        } else if (inFrame && discardedHead == null && in.readableBytes() == scanned + 1
                && in.getByte(in.writerIndex() - 1) == END) {
            frame = new RefusedFrame(head(in, scanned), scanned, RefusedFrame.Reason.NO_CR);
            in.skipBytes(in.readableBytes());
        } else {
            return;
        }
        endFrame();
        unanswered(ctx.channel()).incrementAndGet();
        account(in, framing);
        ctx.fireChannelRead(frame);
        ctx.fireChannelReadComplete();
    }

    private Object discardedFrame(int moreBytes) {
        long length = discarded + moreBytes;
        return discardReason == null ? new OversizedFrame(discardedHead, length, framing.maxFrameBytes())
                : new RefusedFrame(discardedHead, length, discardReason);
    }

    private void emit(ChannelHandlerContext ctx, List<Object> out, Object frame) {
        out.add(frame);
        unanswered(ctx.channel()).incrementAndGet();
        endFrame();
    }

    private void endFrame() {
        inFrame = false;
        discardedHead = null;
        discardReason = null;
        discarded = 0;
        fsSkipped = false;
    }

    /** Brings this connection's share of the budget to the buffer its unfinished frame sits in now. */
    private void account(ByteBuf in, Framing f) {
        long now = in.isReadable() ? in.capacity() : 0; // an unreadable cumulation is released after this read
        f.budget().resize(held, now);
        held = now;
    }

    private void cancelGrace() {
        if (grace != null) {
            grace.cancel(false);
            grace = null;
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        cancelGrace();
        if (framing != null) {
            framing.budget().resize(held, 0);
        }
        held = 0;
    }

    private static byte[] head(ByteBuf in, int length) {
        byte[] head = new byte[Math.min(HEAD, length)];
        in.getBytes(in.readerIndex(), head);
        return head;
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

    /** Index of the FS that ends the frame (and sets {@link #endLength}), or -1 if it has not arrived yet. */
    private int findEnd(ByteBuf in, Framing f) {
        int from = in.readerIndex() + scanned;
        while (true) {
            int fs = in.indexOf(from, in.writerIndex(), END);
            if (fs < 0) {
                scanned = in.readableBytes();
                return -1;
            }
            boolean last = fs + 1 >= in.writerIndex();
            if (f.fsEndsFrame()) {
                endLength = !last && in.getByte(fs + 1) == CR ? 2 : 1;
                return fs;
            }
            if (last) {
                scanned = fs - in.readerIndex();
                return -1;
            }
            byte next = in.getByte(fs + 1);
            if (next == CR || next == START) {
                endLength = next == CR ? 2 : 1;
                return fs;
            }
            from = fs + 1; // a stray FS inside the payload
        }
    }
}
