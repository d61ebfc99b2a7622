package org.supplyhub.ingest;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;
import org.supplyhub.support.Mllp;

import java.nio.charset.StandardCharsets;

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
}
