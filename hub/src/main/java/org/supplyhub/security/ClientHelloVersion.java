package org.supplyhub.security;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.AttributeKey;

/**
 * Reads, before TLS does, the highest protocol version a client's first ClientHello offers, so that a
 * refused TLS 1.0/1.1 client is audited by the protocol it asked for (the JDK says only that the
 * handshake failed). Looks at the first record, then leaves the pipeline; the bytes pass on untouched.
 */
final class ClientHelloVersion extends ChannelInboundHandlerAdapter {

    /** The offered protocol when it is older than TLS 1.2; unset otherwise. */
    static final AttributeKey<String> OFFERED = AttributeKey.valueOf("supplyhub.tls.offered");

    private static final int HANDSHAKE = 0x16;
    private static final int CLIENT_HELLO = 0x01;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof ByteBuf buf) {
            String offered = offered(buf);
            if (offered != null) {
                ctx.channel().attr(OFFERED).set(offered);
            }
        }
        ctx.pipeline().remove(this);
        ctx.fireChannelRead(msg);
    }

    /** TLS record: type(1) version(2) length(2), then handshake: type(1) length(3) client_version(2). */
    static String offered(ByteBuf buf) {
        int at = buf.readerIndex();
        if (buf.readableBytes() < 11 || buf.getUnsignedByte(at) != HANDSHAKE || buf.getUnsignedByte(at + 5) != CLIENT_HELLO) {
            return null;
        }
        int major = buf.getUnsignedByte(at + 9);
        int minor = buf.getUnsignedByte(at + 10);
        if (major != 3 || minor >= 3) {
            return null; // TLS 1.2, or 1.3 (which says 1.2 here and offers 1.3 in an extension)
        }
        return switch (minor) {
            case 0 -> "SSLv3";
            case 1 -> "TLSv1";
            default -> "TLSv1.1";
        };
    }
}
