package org.supplyhub.admin;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;
import org.supplyhub.config.ConfigSnapshot;
import org.supplyhub.config.DestinationDefinition;
import org.supplyhub.config.InterfaceCatalog.TemplatedRoute;
import org.supplyhub.config.InterfaceDefinition;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.ingest.ConfigReloader;
import org.supplyhub.journal.AuditLog;

import java.net.URI;
import java.security.Principal;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The running configuration ({@code GET /api/config}, scope {@code messages:read}) and live reload
 * ({@code POST /api/config/reload}, scope {@code config:write}): 200 with what changed, or 422 with
 * the {@code file: line N: problem} list of a refused set (the running set stays).
 */
@RestController
@RequestMapping("/api/config")
public class ConfigController {

    private final RunningConfig running;
    private final ConfigReloader reloader;
    private final AuditLog audit;
    private final org.supplyhub.config.RecallFeed recallFeed;

    public ConfigController(RunningConfig running, ConfigReloader reloader, AuditLog audit,
                            org.supplyhub.config.RecallFeed recallFeed) {
        this.recallFeed = recallFeed;
        this.running = running;
        this.reloader = reloader;
        this.audit = audit;
    }

    /** One interface as the running set has it. */
    public record InterfaceView(String id, String file, String template, String routeId, Integer port, String mapping,
                                List<String> destinations, String description) { }

    /** One destination as the running set has it (no secrets: the OAuth2 registration is a name). */
    public record DestinationView(String name, String file, String connector, String output, String url,
                                  String directory, String routeId) { }

    public record ConfigView(Instant loadedAt, List<InterfaceView> interfaces, List<DestinationView> destinations,
                             Map<String, String> files, ConfigReloader.Result lastReload, RecallsView recalls) { }

    /** The recall lists in force: the file's rows, and the fetched list's source, rows and last fetch. */
    public record RecallsView(int fileRows, String fetchedFrom, int fetchedRows, Instant lastGoodFetch,
                              Instant lastFetchAttempt, String lastFetchFailure) { }

    @GetMapping
    public ConfigView show(Principal caller) {
        ConfigSnapshot snapshot = running.current();
        Map<String, TemplatedRoute> routes = new java.util.HashMap<>();
        snapshot.catalog().routes().forEach(r -> routes.put(r.key(), r));
        List<InterfaceView> interfaces = snapshot.catalog().all().stream().map(i -> interfaceView(i,
                routes.get("interface:" + i.id()))).toList();
        List<DestinationView> destinations = snapshot.catalog().destinations().stream().map(d -> destinationView(d,
                routes.get("destination:" + d.name()))).toList();
        audit.record(AuditLog.client(caller), "CONFIG_READ", null, "configuration", "OK",
                snapshot.files().size() + " files, loaded at " + snapshot.loadedAt());
        org.supplyhub.config.RecallFeed.Status fetched = recallFeed.status();
        RecallsView recalls = new RecallsView(snapshot.recalls().size(),
                fetched.lastGood() == null ? null : fetched.list().source(), fetched.list().size(), fetched.lastGood(),
                fetched.lastAttempt(), fetched.lastFailure());
        return new ConfigView(snapshot.loadedAt(), interfaces, destinations, snapshot.files(), reloader.last(), recalls);
    }

    private static InterfaceView interfaceView(InterfaceDefinition i, TemplatedRoute route) {
        return new InterfaceView(i.id(), i.file(), i.template(), route == null ? null : route.routeId(), i.mllpPort(),
                route == null ? null : route.parameters().get("mapping"), i.destinations(), i.description());
    }

    private static DestinationView destinationView(DestinationDefinition d, TemplatedRoute route) {
        return new DestinationView(d.name(), d.file(), d.connector().name().toLowerCase(java.util.Locale.ROOT),
                d.output().name().toLowerCase(java.util.Locale.ROOT), d.url() == null ? null : withoutUserInfo(d.url()),
                d.directory() == null ? null : d.directory().toString(), route == null ? null : route.routeId());
    }

    /** A URL may carry credentials in its user-info; they are not shown. */
    private static String withoutUserInfo(URI url) {
        try {
            return new URI(url.getScheme(), null, url.getHost(), url.getPort(), url.getPath(), null, null).toString();
        } catch (java.net.URISyntaxException e) {
            return url.getScheme() + "://" + url.getHost();
        }
    }

    @PostMapping("/reload")
    public ResponseEntity<?> reload(Principal caller) {
        ConfigReloader.Result result = reloader.reload(AuditLog.client(caller));
        return switch (result.outcome()) {
            case APPLIED, UNCHANGED -> ResponseEntity.ok(result);
            case REFUSED -> problem(HttpStatus.UNPROCESSABLE_ENTITY, "Configuration refused",
                    "The new configuration has problems; the running one stays.", result);
            case FAILED -> problem(HttpStatus.CONFLICT, "Configuration not started",
                    "The new configuration could not be started; the running one was restored.", result);
            case FAILED_PARTLY_RESTORED -> problem(HttpStatus.CONFLICT, "Configuration not started",
                    "The new configuration could not be started, and some routes of the running one could not be"
                            + " put back (listed after the first problem); the hub needs a person.", result);
        };
    }

    private static ResponseEntity<ProblemDetail> problem(HttpStatus status, String title, String detail,
                                                         ConfigReloader.Result result) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setTitle(title);
        problem.setProperty("problems", result.problems());
        problem.setProperty("files", result.files());
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }
}
