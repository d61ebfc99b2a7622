package org.supplyhub.admin;

import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.DataSourceAutoConfiguration;
import org.springframework.boot.autoconfigure.jdbc.JdbcTemplateAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.supplyhub.journal.crypto.JournalKeyException;
import org.supplyhub.journal.crypto.JournalKeys;

import java.io.PrintStream;

/**
 * {@code rotate-key}: re-wraps every data key and the search key of the journal under the active KEK
 * ({@code hub.journal.encryption.key}), reading the ones still under a KEK listed in
 * {@code hub.journal.encryption.old-keys}. Reads the hub's own configuration (application.yml, the
 * environment, {@code --name=value} arguments) but starts only a connection pool: no listeners, no
 * web server. Idempotent; prints what it did. Exit 0 done, 1 failed (nothing half done: each key is
 * replaced in one statement).
 */
public final class RotateKeyCommand {

    public static final String NAME = "rotate-key";

    /** Not a @Configuration: the hub's component scan must not pick it up; as a source it is read all the same. */
    @ImportAutoConfiguration({DataSourceAutoConfiguration.class, JdbcTemplateAutoConfiguration.class})
    @Import(JournalKeys.class)
    static class Context {
    }

    private RotateKeyCommand() {
    }

    /** {@code args}: Spring-style {@code --name=value} options (the command name excluded). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        SpringApplicationBuilder builder = new SpringApplicationBuilder(Context.class).web(WebApplicationType.NONE)
                .bannerMode(Banner.Mode.OFF).logStartupInfo(false).registerShutdownHook(false)
                .properties("logging.level.root=warn", "logging.level.org.supplyhub=warn");
        try (ConfigurableApplicationContext context = builder.run(args)) {
            JournalKeys keys = context.getBean(JournalKeys.class);
            JournalKeys.Rotation r = keys.rotate();
            out.printf("rotate-key: active KEK %s; %d journal key(s) re-wrapped, %d already under it%n",
                    r.activeKek(), r.rewrapped(), r.alreadyCurrent());
            out.println("rotate-key: old messages stay readable; the old KEK may now leave "
                    + "hub.journal.encryption.old-keys once every node runs with the new one");
            return 0;
        } catch (RuntimeException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof JournalKeyException k) {
                    err.println("rotate-key: " + k.getMessage());
                    return 1;
                }
            }
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            err.println("rotate-key: failed (" + root.getClass().getSimpleName() + ": " + root.getMessage() + ")."
                    + " With the embedded H2 database, stop the hub first (it holds the file).");
            return 1;
        }
    }
}
