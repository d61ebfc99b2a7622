package org.supplyhub.ops;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.supplyhub.support.TestInterfaces;

/**
 * The launcher {@code ops/stack start} runs in the background: starts the receivers
 * ({@code org.supplyhub.ops.Receivers}, a child JVM, when that class is on the classpath) and the
 * {@link Stack}, writes the endpoints to {@code <run-dir>/endpoints.env}, and stays up (it hosts the
 * database proxy) until SIGTERM, which stops everything.
 * <pre>StackMain --run-dir DIR --jar HUB_JAR [--nodes N] [--keycloak] [--pg-cluster] [--no-receivers]</pre>
 */
public final class StackMain {

    static final String RECEIVERS_CLASS = "org.supplyhub.ops.Receivers";

    private StackMain() { }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        Path runDir = Path.of(required(a, "run-dir")).toAbsolutePath();
        Files.createDirectories(runDir.resolve("logs"));
        StackOptions.Builder options = StackOptions.builder().runDir(runDir).hubJar(Path.of(required(a, "jar")))
                .nodes(Integer.parseInt(a.getOrDefault("nodes", "2"))).keycloak(a.containsKey("keycloak"))
                .pgCluster(a.containsKey("pg-cluster"));
        Process receivers = null;
        int receiversControl = 0;
        if (!a.containsKey("no-receivers")) {
            if (onClasspath(RECEIVERS_CLASS)) {
                ReceiverPorts ports = new ReceiverPorts(TestInterfaces.freePort(), TestInterfaces.freePort(), TestInterfaces.freePort());
                receiversControl = TestInterfaces.freePort();
                receivers = startReceivers(runDir, ports, receiversControl);
                options.receivers(ports);
            } else {
                System.out.println("note: " + RECEIVERS_CLASS + " is not on the classpath yet: destinations write files under "
                        + runDir.resolve("out"));
            }
        }
        long started = System.nanoTime();
        Stack stack;
        try {
            stack = Stack.start(options.build());
        } catch (RuntimeException e) {
            if (receivers != null) {
                receivers.destroy();
            }
            throw e;
        }
        double seconds = (System.nanoTime() - started) / 1e9;
        Process receiversProcess = receivers;
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            stack.close();
            if (receiversProcess != null) {
                receiversProcess.destroy();
            }
            stopped.countDown();
        }, "stack-stop"));
        Map<String, String> endpoints = endpoints(stack, options.build(), seconds);
        if (receiversControl > 0) {
            // Receivers' control port: GET /ledger (effects per receiver), POST /control/<name>/down|up|slow?ms=|normal
            endpoints.put("STACK_RECEIVERS_LEDGER", "http://127.0.0.1:" + receiversControl + "/ledger");
        }
        StringBuilder env = new StringBuilder();
        endpoints.forEach((k, v) -> env.append(k).append('=').append(v).append('\n'));
        Files.writeString(runDir.resolve("endpoints.env"), env);
        System.out.print(env);
        System.out.println("STACK_READY=1");
        System.out.flush();
        stopped.await();
    }

    static Map<String, String> endpoints(Stack stack, StackOptions options, double seconds) {
        Map<String, String> e = new LinkedHashMap<>();
        e.put("STACK_RUN_DIR", stack.runDir().toString());
        e.put("STACK_STARTUP_SECONDS", String.format(java.util.Locale.ROOT, "%.1f", seconds));
        e.put("STACK_HTTP", stack.httpBase().toString());
        stack.mllpPorts().forEach((id, port) -> e.put("STACK_MLLP_" + Stack.envName(id), Integer.toString(port)));
        e.put("STACK_STATS", stack.statsPage().toString());
        e.put("STACK_TOKEN_URL", stack.tokenEndpoint().toString());
        if (stack.keycloakIssuer() != null) {
            e.put("STACK_KEYCLOAK", stack.keycloakIssuer().toString());
            e.put("STACK_CLIENT_SECRETS", stack.runDir().resolve("secrets/keycloak-clients.env").toString());
        }
        e.put("STACK_JDBC", stack.jdbcUrl());
        e.put("STACK_DB_PROXY_PORT", Integer.toString(stack.database().port()));
        for (HubNode n : stack.nodes()) {
            String k = "STACK_" + n.name().toUpperCase(java.util.Locale.ROOT);
            e.put(k + "_URL", n.base().toString());
            e.put(k + "_PID", Long.toString(n.pid()));
            e.put(k + "_LOG", n.log().toString());
        }
        stack.servicePids().forEach((name, pid) -> e.put("STACK_" + name.toUpperCase(java.util.Locale.ROOT) + "_PID", Long.toString(pid)));
        if (options.receivers() != null) {
            e.put("STACK_BILLING", options.receivers().billingUrl());
            e.put("STACK_INVENTORY", options.receivers().inventoryUrl());
            e.put("STACK_FHIR", options.receivers().fhirBaseUrl());
        } else {
            e.put("STACK_OUT", stack.runDir().resolve("out").toString());
        }
        e.put("STACK_LOGS", stack.logsDir().toString());
        return e;
    }

    private static Process startReceivers(Path runDir, ReceiverPorts ports, int control) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), RECEIVERS_CLASS,
                "--billing", Integer.toString(ports.billingMllp()), "--inventory", Integer.toString(ports.inventoryHttp()),
                "--fhir", Integer.toString(ports.fhirHttp()), "--control", Integer.toString(control)));
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(runDir.resolve("logs/receivers.log").toFile())).start();
        Files.writeString(runDir.resolve("pids"), "receivers " + p.pid() + "\n");
        for (int port : List.of(ports.billingMllp(), ports.inventoryHttp(), ports.fhirHttp(), control)) {
            awaitPort(p, port, Duration.ofSeconds(60));
        }
        return p;
    }

    private static void awaitPort(Process p, int port, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 500);
                return;
            } catch (IOException e) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IllegalStateException("receivers not listening on " + port + "; see logs/receivers.log");
                }
                try {
                    Thread.sleep(200);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(ie);
                }
            }
        }
    }

    private static boolean onClasspath(String name) {
        try {
            Class.forName(name, false, StackMain.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument " + args[i]);
            }
            String key = args[i].substring(2);
            boolean flag = i + 1 >= args.length || args[i + 1].startsWith("--");
            a.put(key, flag ? "" : args[++i]);
        }
        return a;
    }

    private static String required(Map<String, String> a, String key) {
        String v = a.get(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return v;
    }
}
