package org.supplyhub.bench;

import ca.uhn.hl7v2.DefaultHapiContext;
import ca.uhn.hl7v2.HapiContext;
import ca.uhn.hl7v2.model.Message;
import ca.uhn.hl7v2.parser.PipeParser;
import ca.uhn.hl7v2.util.idgenerator.InMemoryIDGenerator;
import ca.uhn.hl7v2.validation.impl.ValidationContextFactory;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * The bare limit as DESIGN and issue 16 define it: a plain {@link ServerSocket}, one thread per
 * connection, MLLP framing by hand (0x0B … 0x1C 0x0D), HAPI {@link PipeParser} parse,
 * {@code generateACK()} and encode, the framed reply. No Camel, no journal, no mapping: what any
 * HL7 listener must at least do. Runs in its own JVM, like the hub, so both are measured the same way.
 */
public final class PlainBareServer {

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(args[0]);
        HapiContext hapi = new DefaultHapiContext();
        hapi.setValidationContext(ValidationContextFactory.noValidation());
        hapi.getParserConfiguration().setIdGenerator(new InMemoryIDGenerator());
        try (ServerSocket server = new ServerSocket(port, 128, InetAddress.getLoopbackAddress())) {
            System.out.println("READY " + port);
            while (true) {
                Socket socket = server.accept();
                Thread thread = new Thread(() -> serve(socket, new PipeParser(hapi)), "conn-" + socket.getPort());
                thread.setDaemon(true);
                thread.start();
            }
        }
    }

    /** One connection: frames in, one ACK frame out each, until the peer closes. */
    static void serve(Socket socket, PipeParser parser) {
        try (socket) {
            socket.setTcpNoDelay(true);
            InputStream in = new BufferedInputStream(socket.getInputStream());
            OutputStream out = new BufferedOutputStream(socket.getOutputStream());
            ByteArrayOutputStream frame = new ByteArrayOutputStream(4096);
            while (readFrame(in, frame)) {
                Message message = parser.parse(frame.toString(StandardCharsets.UTF_8));
                byte[] ack = parser.encode(message.generateACK()).getBytes(StandardCharsets.UTF_8);
                out.write(0x0b);
                out.write(ack);
                out.write(0x1c);
                out.write(0x0d);
                out.flush();
            }
        } catch (Exception e) {
            System.err.println("connection ended: " + e);
        }
    }

    /** Reads the next frame's payload into {@code frame}; false at the end of the stream. */
    static boolean readFrame(InputStream in, ByteArrayOutputStream frame) throws IOException {
        frame.reset();
        int b;
        while ((b = in.read()) != 0x0b) {
            if (b < 0) {
                return false;
            }
        }
        while ((b = in.read()) >= 0) {
            if (b == 0x1c) {
                int cr = in.read();
                if (cr != 0x0d) {
                    throw new IOException("frame end without CR");
                }
                return true;
            }
            frame.write(b);
        }
        return false;
    }
}
