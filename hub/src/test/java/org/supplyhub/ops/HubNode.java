package org.supplyhub.ops;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One hub node: a {@code java -jar} child process with its own HTTP port, its own MLLP ports and
 * its own routes directory, on the stack's shared database and signing key. Its output goes to
 * {@link #log()} (appended across restarts).
 */
public final class HubNode {

    /** How long a graceful stop may take before the node is killed (Spring's graceful shutdown is 30 s). */
    static final Duration STOP_GRACE = Duration.ofSeconds(45);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final int index;
    private final List<String> command;
    private final Map<String, String> env;
    private final Path dir;
    private final Path log;
    private final int httpPort;
    private final Map<String, Integer> mllpPorts;
    private final Runnable onStarted;
    private volatile Process process;

    HubNode(int index, List<String> command, Map<String, String> env, Path dir, Path log, int httpPort,
            Map<String, Integer> mllpPorts, Runnable onStarted) {
        this.index = index;
        this.command = List.copyOf(command);
        this.env = Map.copyOf(env);
        this.dir = dir;
        this.log = log;
        this.httpPort = httpPort;
        this.mllpPorts = Map.copyOf(mllpPorts);
        this.onStarted = onStarted;
    }

    /** 0-based, as {@link Stack#node(int)}; HAProxy calls it hub{index + 1}. */
    public int index() {
        return index;
    }

    public String name() {
        return "hub" + (index + 1);
    }

    public Path log() {
        return log;
    }

    /** Starts the process (does not wait for it to be healthy). A node that is running stays as it is. */
    public synchronized void start() {
        if (process != null && process.isAlive()) {
            return;
        }
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        builder.environment().putAll(env);
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name(), e);
        }
        onStarted.run();
    }

    /**
     * SIGKILL, no shutdown hooks: {@code Process.destroyForcibly()} on Linux is {@code kill(pid, SIGKILL)}
     * (checked: the exit status is 137 = 128 + 9). Returns when the process is gone.
     */
    public void kill9() {
        Process p = process;
        if (p == null) {
            return;
        }
        p.destroyForcibly();
        try {
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM (Spring's graceful shutdown), SIGKILL after {@link #STOP_GRACE}. */
    public void stop() {
        Process p = process;
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(STOP_GRACE.toMillis(), TimeUnit.MILLISECONDS)) {
                kill9();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            kill9();
        }
    }

    /** Graceful stop, start, and wait until healthy (10 minutes at most). */
    public void restart() {
        stop();
        start();
        awaitHealthy(Duration.ofMinutes(10)); // a bound: a loaded 2-core host took over 3 minutes
    }

    public boolean alive() {
        Process p = process;
        return p != null && p.isAlive();
    }

    /** The exit status of a stopped node (137 after {@link #kill9()}), or -1 while it runs. */
    public int exitValue() {
        Process p = process;
        return p == null || p.isAlive() ? -1 : p.exitValue();
    }

    /** Readiness probe answers 200 (what HAProxy checks too). */
    public boolean healthy() {
        if (!alive()) {
            return false;
        }
        try {
            HttpResponse<Void> response = HTTP.send(HttpRequest.newBuilder(base().resolve("/actuator/health/readiness"))
                    .timeout(Duration.ofSeconds(3)).GET().build(), HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public void awaitHealthy(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!healthy()) {
            if (!alive()) {
                throw new IllegalStateException(name() + " exited with status " + exitValue() + " before it was healthy; see " + log);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name() + " not healthy within " + timeout + "; see " + log);
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted waiting for " + name(), e);
            }
        }
    }

    public long pid() {
        Process p = process;
        if (p == null) {
            throw new IllegalStateException(name() + " was never started");
        }
        return p.pid();
    }

    /** The node's own HTTP address (not through HAProxy). */
    public URI base() {
        return URI.create("http://127.0.0.1:" + httpPort);
    }

    public int httpPort() {
        return httpPort;
    }

    /** The node's own MLLP port for an interface (not through HAProxy). */
    public int mllpPort(String interfaceId) {
        Integer port = mllpPorts.get(interfaceId);
        if (port == null) {
            throw new IllegalArgumentException("no MLLP interface '" + interfaceId + "' (known: " + mllpPorts.keySet() + ")");
        }
        return port;
    }

    public Map<String, Integer> mllpPorts() {
        return mllpPorts;
    }
}
