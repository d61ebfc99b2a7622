package org.supplyhub.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.Charset;

/** A raw MLLP socket for what HAPI's client will not do: several frames in one write, oversize frames. */
public final class Mllp implements AutoCloseable {

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    public Mllp(int port) throws IOException {
        this(new Socket("127.0.0.1", port));
    }

    /** Over a socket made elsewhere, e.g. a TLS one. */
    public Mllp(Socket socket) throws IOException {
        this.socket = socket;
        socket.setSoTimeout(20_000);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    public static byte[] frame(byte[] payload) {
        byte[] framed = new byte[payload.length + 3];
        framed[0] = 0x0b;
        System.arraycopy(payload, 0, framed, 1, payload.length);
        framed[framed.length - 2] = 0x1c;
        framed[framed.length - 1] = 0x0d;
        return framed;
    }

    public void write(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public String send(String message, Charset charset) throws IOException {
        write(frame(message.getBytes(charset)));
        return read(charset);
    }

    /** Reads one framed reply; null if the peer closed the connection. */
    public String read(Charset charset) throws IOException {
        int b;
        while ((b = in.read()) != 0x0b) {
            if (b < 0) {
                return null;
            }
        }
        ByteArrayOutputStream payload = new ByteArrayOutputStream();
        while (true) {
            b = in.read();
            if (b < 0) {
                return null;
            }
            if (b == 0x1c) {
                in.read(); // CR
                return payload.toString(charset);
            }
            payload.write(b);
        }
    }

    public boolean closedByPeer() {
        try {
            return in.read() < 0;
        } catch (IOException e) {
            return true;
        }
    }

    public Socket socket() {
        return socket;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
