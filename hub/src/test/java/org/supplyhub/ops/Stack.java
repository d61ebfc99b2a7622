package org.supplyhub.ops;

import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import org.supplyhub.support.TcpProxy;

/**
 * The production topology on one host without Docker: a fresh PostgreSQL database behind a
 * {@link TcpProxy}, HAProxy, N hub nodes sharing one signing key, optionally Keycloak.
 */
public final class Stack implements AutoCloseable {

    public static Stack start(StackOptions options) {
        throw new UnsupportedOperationException("not yet");
    }

    public List<HubNode> nodes() {
        throw new UnsupportedOperationException("not yet");
    }

    public HubNode node(int index) {
        throw new UnsupportedOperationException("not yet");
    }

    public TcpProxy database() {
        throw new UnsupportedOperationException("not yet");
    }

    public String jdbcUrl() {
        throw new UnsupportedOperationException("not yet");
    }

    public int mllpPort(String interfaceId) {
        throw new UnsupportedOperationException("not yet");
    }

    public URI httpBase() {
        throw new UnsupportedOperationException("not yet");
    }

    public Path routesDir(int node) {
        throw new UnsupportedOperationException("not yet");
    }

    public String adminToken() {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    public void close() {
    }
}
