package org.supplyhub;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

@SpringBootApplication
@ConfigurationPropertiesScan
public class SupplyHubApplication {
    public static void main(String[] args) {
        SpringApplication.run(SupplyHubApplication.class, args);
    }
}
