package org.supplyhub;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.supplyhub.cli.Cli;

@SpringBootApplication
@ConfigurationPropertiesScan
public class SupplyHubApplication {
    public static void main(String[] args) {
        // a command (validate, try, test, hash-secret, help) runs without Spring: no server, no database
        if (Cli.isCommand(args)) {
            System.exit(Cli.main(args));
        }
        SpringApplication.run(SupplyHubApplication.class, args);
    }
}
