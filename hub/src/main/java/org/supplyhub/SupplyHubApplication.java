package org.supplyhub;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.supplyhub.admin.RotateKeyCommand;
import org.supplyhub.cli.Cli;

import java.util.Arrays;

@SpringBootApplication
@ConfigurationPropertiesScan
public class SupplyHubApplication {
    public static void main(String[] args) {
        // a command (validate, try, test, hash-secret, help) runs without Spring: no server, no database
        if (args.length > 0 && RotateKeyCommand.NAME.equals(args[0])) {
            // needs the database, so Spring's configuration, unlike the CLI's other commands
            System.exit(RotateKeyCommand.run(Arrays.copyOfRange(args, 1, args.length), System.out, System.err));
        }
        if (Cli.isCommand(args)) {
            System.exit(Cli.main(args));
        }
        SpringApplication.run(SupplyHubApplication.class, args);
    }
}
