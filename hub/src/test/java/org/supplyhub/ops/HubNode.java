package org.supplyhub.ops;

import java.net.URI;
import java.time.Duration;

/** One hub node: a {@code java -jar} child process with its own HTTP port and MLLP ports. */
public final class HubNode {

    public void kill9() {
        throw new UnsupportedOperationException("not yet");
    }

    public void start() {
        throw new UnsupportedOperationException("not yet");
    }

    public void restart() {
        throw new UnsupportedOperationException("not yet");
    }

    public boolean healthy() {
        throw new UnsupportedOperationException("not yet");
    }

    public void awaitHealthy(Duration timeout) {
        throw new UnsupportedOperationException("not yet");
    }

    public long pid() {
        throw new UnsupportedOperationException("not yet");
    }

    public URI base() {
        throw new UnsupportedOperationException("not yet");
    }

    public int mllpPort(String interfaceId) {
        throw new UnsupportedOperationException("not yet");
    }
}
