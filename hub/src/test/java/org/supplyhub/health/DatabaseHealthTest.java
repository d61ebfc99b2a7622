package org.supplyhub.health;

import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.supplyhub.SupplyHubApplication;
import org.supplyhub.support.Await;
import org.supplyhub.support.TcpProxy;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code /actuator/health} says DOWN within seconds when the database stops answering (a probe
 * gives up long before the pool's 30 s connection timeout), and UP again when it is back.
 */
class DatabaseHealthTest {

    @Test
    void healthIsDownWithinSecondsWhenTheDatabaseIsCutOff() throws Exception {
        Map<String, String> db = new HashMap<>(TestDatabases.postgres());
        URI target = URI.create(db.get("spring.datasource.url").substring("jdbc:".length()));
        try (TcpProxy proxy = new TcpProxy(target.getHost(), target.getPort())) {
            db.put("spring.datasource.url", db.get("spring.datasource.url")
                    .replace(target.getHost() + ":" + target.getPort(), "127.0.0.1:" + proxy.port()));
            Map<String, String> props = new HashMap<>(db);
            props.putAll(TestInterfaces.copyOfShipped().properties());
            props.put("server.port", "0");
            props.put("spring.jmx.enabled", "false");
            try (ConfigurableApplicationContext hub = new SpringApplicationBuilder(SupplyHubApplication.class)
                    .run(props.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new))) {
                String health = "http://127.0.0.1:" + hub.getEnvironment().getProperty("local.server.port") + "/actuator/health";
                HttpClient http = HttpClient.newHttpClient();
                HttpRequest get = HttpRequest.newBuilder(URI.create(health)).timeout(Duration.ofSeconds(60)).build();
                assertThat(http.send(get, HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);

                proxy.cut();
                long t0 = System.nanoTime();
                HttpResponse<String> down = http.send(get, HttpResponse.BodyHandlers.ofString());
                long ms = (System.nanoTime() - t0) / 1_000_000;
                System.out.printf("Database cut: /actuator/health answered %d in %d ms%n", down.statusCode(), ms);
                assertThat(down.statusCode()).isEqualTo(503);
                assertThat(down.body()).contains("DOWN");
                assertThat(ms).as("answered before a probe gives up").isLessThan(4000);
                HttpResponse<String> again = http.send(get, HttpResponse.BodyHandlers.ofString());
                assertThat(again.statusCode()).isEqualTo(503);

                proxy.restore();
                Await.until(() -> {
                    try {
                        return http.send(get, HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
                    } catch (Exception e) {
                        return false;
                    }
                }, 60);
            }
        }
    }
}
