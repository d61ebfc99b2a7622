package org.supplyhub.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import org.supplyhub.audit.AuditChain;
import org.supplyhub.audit.AuditChainService;
import org.supplyhub.audit.ChainVerifier;
import org.supplyhub.audit.Checkpoint;
import org.supplyhub.audit.SigningKeys;
import org.supplyhub.journal.crypto.JournalKeys;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** {@code verify-audit}: the audit chain checked straight from the database, without starting the hub. */
final class AuditVerifyCommand {

    private AuditVerifyCommand() {
    }

    static int run(Cli.Options options, Map<String, String> env, PrintStream out, PrintStream err) {
        options.noArguments();
        String url = options.value("--url", env.getOrDefault("SPRING_DATASOURCE_URL",
                "jdbc:h2:file:./data/hub;IFEXISTS=TRUE"));
        // the hub's data folder, resolved as the hub resolves it: its generated key and exported checkpoints
        Path dataDir = JournalKeys.dataDirectory(url);
        Path defaultPublicKey = SigningKeys.publicKeyFile(dataDir.resolve(AuditChainService.DEFAULT_KEY_FILE));
        String user = options.value("--user", env.getOrDefault("SPRING_DATASOURCE_USERNAME", "sa"));
        String password = env.getOrDefault("SPRING_DATASOURCE_PASSWORD", "");
        List<PublicKey> keys = new ArrayList<>();
        String keyFiles = options.value("--public-key", null);
        try {
            if (keyFiles != null) {
                for (String f : keyFiles.split(",")) {
                    keys.add(SigningKeys.readPublicKey(Path.of(f.trim())));
                }
            } else if (Files.exists(defaultPublicKey)) {
                keys.add(SigningKeys.readPublicKey(defaultPublicKey));
            } else {
                err.println("verify-audit: no public key (--public-key): checkpoint signatures are not checked");
            }
        } catch (SigningKeys.AuditKeyException e) {
            err.println("verify-audit: " + e.getMessage());
            return Cli.FAILED;
        }
        List<Checkpoint> exported;
        try {
            String given = options.value("--checkpoints", null);
            exported = AuditChain.readExport(given != null ? Path.of(given) : dataDir);
        } catch (IOException | RuntimeException e) {
            err.println("verify-audit: the exported checkpoints could not be read: " + e.getMessage());
            return Cli.FAILED;
        }
        try (Connection con = DriverManager.getConnection(url, user, password)) {
            ChainVerifier.Report report = new ChainVerifier(keys, exported).verify(con);
            ObjectMapper json = new ObjectMapper().registerModule(new JavaTimeModule())
                    .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS).enable(SerializationFeature.INDENT_OUTPUT);
            out.println(json.writeValueAsString(report));
            return report.valid() ? Cli.OK : Cli.FAILED;
        } catch (SQLException e) {
            // the URL may carry a password: name the error's kind and state only
            err.println("verify-audit: the database could not be read (" + e.getClass().getSimpleName() + ", SQL state "
                    + e.getSQLState() + ")" + ("90020".equals(e.getSQLState())
                    ? ": a running hub holds the H2 file; stop it, or use GET /api/audit/verify" : ""));
            return Cli.FAILED;
        } catch (IOException e) {
            err.println("verify-audit: " + e.getMessage());
            return Cli.FAILED;
        }
    }
}
