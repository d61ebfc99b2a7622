package org.supplyhub.ingest;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.supplyhub.support.Mllp;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class MllpFrameDecoderTest {

    @Test
    void framesSplitAcrossReadsAndJoinedInOneReadAreAllDecoded() {
        EmbeddedChannel channel = new EmbeddedChannel(new MllpFrameDecoder(1024));
        byte[] a = Mllp.frame("MSH|A".getBytes(StandardCharsets.US_ASCII));
        byte[] b = Mllp.frame("MSH|B".getBytes(StandardCharsets.US_ASCII));
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);

        channel.writeInbound(Unpooled.wrappedBuffer(both, 0, 4));            // VT M S H
        channel.writeInbound(Unpooled.wrappedBuffer(both, 4, a.length - 5)); // … up to the FS
        channel.writeInbound(Unpooled.wrappedBuffer(both, a.length - 1, both.length - a.length + 1));

        assertThat(new String((byte[]) channel.readInbound(), StandardCharsets.US_ASCII)).isEqualTo("MSH|A");
        assertThat(new String((byte[]) channel.readInbound(), StandardCharsets.US_ASCII)).isEqualTo("MSH|B");
        assertThat((Object) channel.readInbound()).isNull();
    }

    @Test
    void aStrayFileSeparatorInsideThePayloadIsData() {
        EmbeddedChannel channel = new EmbeddedChannel(new MllpFrameDecoder(1024));
        channel.writeInbound(Unpooled.wrappedBuffer(Mllp.frame(new byte[] {'A', 0x1c, 'B'})));
        assertThat((byte[]) channel.readInbound()).containsExactly('A', 0x1c, 'B');
    }

    @Test
    void anOversizedFrameIsDiscardedAsItArrivesAndReportedOnce() {
        EmbeddedChannel channel = new EmbeddedChannel(new MllpFrameDecoder(1000));
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x0b}));
        channel.writeInbound(Unpooled.wrappedBuffer("MSH|^~\\&|BIG".getBytes(StandardCharsets.US_ASCII)));
        for (int i = 0; i < 100; i++) {
            ByteBuf chunk = Unpooled.wrappedBuffer(new byte[10_000]);
            channel.writeInbound(chunk);
            assertThat(chunk.refCnt()).as("chunks are released, not accumulated").isZero();
        }
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x1c, 0x0d}));
        channel.writeInbound(Unpooled.wrappedBuffer(Mllp.frame("MSH|NEXT".getBytes(StandardCharsets.US_ASCII))));

        OversizedFrame frame = channel.readInbound();
        assertThat(frame.length()).isEqualTo(12 + 1_000_000);
        assertThat(frame.head().length).isLessThanOrEqualTo(MllpFrameDecoder.HEAD);
        assertThat(new String(frame.head(), 0, 12, StandardCharsets.US_ASCII)).isEqualTo("MSH|^~\\&|BIG");
        assertThat(new String((byte[]) channel.readInbound(), StandardCharsets.US_ASCII)).isEqualTo("MSH|NEXT");
    }

    // --- FS without CR -----------------------------------------------------------------------------

    @Test
    void strictlyAFinalFsWithoutCrIsRefusedWhenTheGraceIsOver() throws Exception {
        MllpFrameDecoder.Framing framing = MllpFrameDecoder.Framing.strict(1024).withEndGrace(Duration.ofMillis(100));
        EmbeddedChannel channel = new EmbeddedChannel(new MllpFrameDecoder(framing));
        channel.writeInbound(Unpooled.wrappedBuffer(withoutCr("MSH|A")));
        assertThat((Object) channel.readInbound()).as("within the grace the CR may still come").isNull();
        Thread.sleep(150);
        channel.runPendingTasks();
        RefusedFrame refused = channel.readInbound();
        assertThat(refused.reason()).isEqualTo(RefusedFrame.Reason.NO_CR);
        assertThat(new String(refused.head(), StandardCharsets.US_ASCII)).isEqualTo("MSH|A");
        assertThat(refused.length()).isEqualTo(5);
        // a late CR is noise between frames; the next frame is read as usual
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x0d}));
        channel.writeInbound(Unpooled.wrappedBuffer(Mllp.frame("MSH|B".getBytes(StandardCharsets.US_ASCII))));
        assertThat(new String((byte[]) channel.readInbound(), StandardCharsets.US_ASCII)).isEqualTo("MSH|B");
        assertThat((Object) channel.readInbound()).isNull();
    }

    @Test
    void strictlyACrInTheNextReadWithinTheGraceEndsTheFrameAsUsual() throws Exception {
        MllpFrameDecoder.Framing framing = MllpFrameDecoder.Framing.strict(1024).withEndGrace(Duration.ofMillis(200));
        EmbeddedChannel channel = new EmbeddedChannel(new MllpFrameDecoder(framing));
        channel.writeInbound(Unpooled.wrappedBuffer(withoutCr("MSH|A")));
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x0d}));
        assertThat(new String((byte[]) channel.readInbound(), StandardCharsets.US_ASCII)).isEqualTo("MSH|A");
        Thread.sleep(250);
        channel.runPendingTasks();
        assertThat((Object) channel.readInbound()).as("the grace timer was cancelled").isNull();
    }

    @Test
    void strictlyFsThenVtEndsTheFrameWithoutCrAndStartsTheNext() {
        EmbeddedChannel channel = new EmbeddedChannel(new MllpFrameDecoder(1024));
        byte[] a = withoutCr("MSH|A");
        byte[] b = Mllp.frame("MSH|B".getBytes(StandardCharsets.US_ASCII));
        channel.writeInbound(Unpooled.wrappedBuffer(concat(a, b)));
        RefusedFrame refused = channel.readInbound();
        assertThat(refused.reason()).isEqualTo(RefusedFrame.Reason.NO_CR);
        assertThat(new String((byte[]) channel.readInbound(), StandardCharsets.US_ASCII)).isEqualTo("MSH|B");
    }

    @Test
    void leniently_FsAloneEndsTheFrameAndTheCrAfterItIsSkipped() {
        MllpFrameDecoder.Framing framing = MllpFrameDecoder.Framing.strict(1024).withFsEndsFrame(true);
        EmbeddedChannel channel = new EmbeddedChannel(new MllpFrameDecoder(framing));
        channel.writeInbound(Unpooled.wrappedBuffer(withoutCr("MSH|A")));
        assertThat(new String((byte[]) channel.readInbound(), StandardCharsets.US_ASCII)).isEqualTo("MSH|A");
        channel.writeInbound(Unpooled.wrappedBuffer(concat(withoutCr("MSH|B"), Mllp.frame("MSH|C".getBytes(StandardCharsets.US_ASCII)))));
        assertThat(new String((byte[]) channel.readInbound(), StandardCharsets.US_ASCII)).isEqualTo("MSH|B");
        assertThat(new String((byte[]) channel.readInbound(), StandardCharsets.US_ASCII)).isEqualTo("MSH|C");
        assertThat((Object) channel.readInbound()).as("the CR after C's FS is noise, not a frame").isNull();
    }

    @Test
    void anOversizedFrameEndingWithFsAloneIsStillAnsweredOnceAfterTheGrace() throws Exception {
        MllpFrameDecoder.Framing framing = MllpFrameDecoder.Framing.strict(100).withEndGrace(Duration.ofMillis(50));
        EmbeddedChannel channel = new EmbeddedChannel(new MllpFrameDecoder(framing));
        byte[] big = new byte[500];
        java.util.Arrays.fill(big, (byte) 'x');
        channel.writeInbound(Unpooled.wrappedBuffer(withoutCr(new String(big, StandardCharsets.US_ASCII))));
        Thread.sleep(100);
        channel.runPendingTasks();
        OversizedFrame frame = channel.readInbound();
        assertThat(frame.length()).isEqualTo(500);
        assertThat((Object) channel.readInbound()).isNull();
    }

    // --- the budget for unfinished frames ------------------------------------------------------------

    @Test
    void aFrameThatWouldTakeTheBudgetOverItsLimitIsRefusedAndTheOthersGoOn() {
        UnfinishedFrameBudget budget = new UnfinishedFrameBudget(64 * 1024);
        MllpFrameDecoder.Framing framing = MllpFrameDecoder.Framing.strict(1 << 20).withBudget(budget);
        EmbeddedChannel first = new EmbeddedChannel(new MllpFrameDecoder(framing));
        EmbeddedChannel second = new EmbeddedChannel(new MllpFrameDecoder(framing));
        first.writeInbound(heap(40 * 1024, "MSH|FIRST"));
        assertThat(budget.used()).as("the first connection's unfinished frame is counted").isGreaterThanOrEqualTo(40 * 1024);
        second.writeInbound(heap(40 * 1024, "MSH|SECOND"));
        assertThat(budget.used()).as("the second's would pass the limit: refused, nothing of it held")
                .isLessThanOrEqualTo(64 * 1024);
        // both senders finish their frames
        second.writeInbound(Unpooled.wrappedBuffer(new byte[] {'y', 0x1c, 0x0d}));
        first.writeInbound(Unpooled.wrappedBuffer(new byte[] {'y', 0x1c, 0x0d}));
        RefusedFrame refused = second.readInbound();
        assertThat(refused.reason()).isEqualTo(RefusedFrame.Reason.BUSY);
        assertThat(new String(refused.head(), 0, 10, StandardCharsets.US_ASCII)).isEqualTo("MSH|SECOND");
        assertThat(refused.length()).isEqualTo(40 * 1024 + 1);
        byte[] taken = first.readInbound();
        assertThat(taken).hasSize(40 * 1024 + 1);
        assertThat(budget.used()).as("finished frames hold nothing").isZero();
        // the refused connection is served again once memory is free
        second.writeInbound(Unpooled.wrappedBuffer(Mllp.frame("MSH|AGAIN".getBytes(StandardCharsets.US_ASCII))));
        assertThat(new String((byte[]) second.readInbound(), StandardCharsets.US_ASCII)).isEqualTo("MSH|AGAIN");
    }

    @Test
    void aClosedConnectionGivesItsShareBack() {
        UnfinishedFrameBudget budget = new UnfinishedFrameBudget(1 << 20);
        EmbeddedChannel channel = new EmbeddedChannel(new MllpFrameDecoder(MllpFrameDecoder.Framing.strict(1 << 20).withBudget(budget)));
        channel.writeInbound(heap(10_000, "MSH|X"));
        assertThat(budget.used()).isPositive();
        channel.close();
        assertThat(budget.used()).isZero();
    }

    @Test
    void aDiscardedFrameHoldsNothingEvenWhenARearEndsWithItsFs() {
        UnfinishedFrameBudget budget = new UnfinishedFrameBudget(1 << 20);
        EmbeddedChannel channel = new EmbeddedChannel(new MllpFrameDecoder(MllpFrameDecoder.Framing.strict(1000).withBudget(budget)));
        channel.writeInbound(heap(5000, "MSH|BIG"));
        ByteBuf tail = Unpooled.wrappedBuffer(new byte[] {'z', 0x1c});
        channel.writeInbound(tail);
        assertThat(tail.refCnt()).isZero();
        assertThat(budget.used()).isZero();
        channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {0x0d}));
        OversizedFrame frame = channel.readInbound();
        assertThat(frame.length()).isEqualTo(5001);
    }

    /** VT, then {@code head}, then filler up to {@code length} payload bytes; no end. */
    private static ByteBuf heap(int length, String head) {
        byte[] bytes = new byte[length + 1];
        java.util.Arrays.fill(bytes, (byte) 'x');
        bytes[0] = 0x0b;
        byte[] h = head.getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(h, 0, bytes, 1, h.length);
        return Unpooled.wrappedBuffer(bytes);
    }

    private static byte[] withoutCr(String payload) {
        byte[] framed = Mllp.frame(payload.getBytes(StandardCharsets.US_ASCII));
        return java.util.Arrays.copyOf(framed, framed.length - 1);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
