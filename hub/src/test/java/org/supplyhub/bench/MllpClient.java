package org.supplyhub.bench;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The load generator's MLLP connection: buffered both ways, so that sending and reading an ACK costs
 * a few system calls rather than one per byte (the test support's {@code Mllp} reads byte by byte,
 * which on a 2-core machine took CPU from the servers being measured). The same client drives the
 * bare servers and the hub.
 */
final class MllpClient implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final ByteArrayOutputStream reply = new ByteArrayOutputStream(512);

    MllpClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setTcpNoDelay(true);
        socket.setSoTimeout(60_000);
        in = new BufferedInputStream(socket.getInputStream());
        out = new BufferedOutputStream(socket.getOutputStream(), 8192);
    }

    /** Sends one framed message and returns the framed reply's payload; null if the peer closed. */
    String send(String message) throws IOException {
        out.write(0x0b);
        out.write(message.getBytes(StandardCharsets.UTF_8));
        out.write(0x1c);
        out.write(0x0d);
        out.flush();
        return PlainBareServer.readFrame(in, reply) ? reply.toString(StandardCharsets.UTF_8) : null;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
