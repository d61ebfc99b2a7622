package org.supplyhub.admin.console;

import jakarta.servlet.http.HttpServletRequest;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.web.bind.annotation.ControllerAdvice;
import org.springframework.web.bind.annotation.ModelAttribute;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/** What every console page's layout needs: the person signed in, and how times are shown. */
@ControllerAdvice(basePackageClasses = ConsoleModel.class)
public class ConsoleModel {

    private final Times times;
    private final long idleSeconds;

    public ConsoleModel(@Value("${hub.console.zone:#{null}}") String zone,
                        org.supplyhub.security.ConsoleProperties console) {
        this.times = new Times(zone == null ? ZoneId.systemDefault() : ZoneId.of(zone));
        this.idleSeconds = console.idleTimeout().toSeconds();
    }

    /** The session's idle timeout: the dashboard stops refreshing itself after half of it without use. */
    @ModelAttribute("idleSeconds")
    public long idleSeconds() {
        return idleSeconds;
    }

    @ModelAttribute("user")
    public ConsoleUser user(HttpServletRequest request) {
        return ConsoleUser.of(request.getUserPrincipal());
    }

    @ModelAttribute("times")
    public Times times() {
        return times;
    }

    /** Times in the console's zone ({@code hub.console.zone}, default the server's), as pages show them. */
    public record Times(ZoneId zone) {

        private static final DateTimeFormatter FORMAT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

        public String format(Instant at) {
            return at == null ? "—" : FORMAT.format(at.atZone(zone));
        }

        /** Like {@code 2026-11-29T08:00:00}, what a datetime-local input shows. */
        public String iso(Instant at) {
            return at == null ? "" : at.atZone(zone).toLocalDateTime().toString();
        }

        public String age(long seconds) {
            Duration d = Duration.ofSeconds(seconds);
            return seconds < 120 ? seconds + " s" : seconds < 7200 ? d.toMinutes() + " min" : d.toHours() + " h";
        }
    }
}
