package org.supplyhub.ingest;

import org.apache.camel.CamelContext;
import org.apache.camel.builder.TemplatedRouteBuilder;
import org.apache.camel.model.ModelCamelContext;
import org.apache.camel.model.RouteDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Service;
import org.supplyhub.config.ConfigFiles;
import org.supplyhub.config.ConfigParticipant;
import org.supplyhub.config.ConfigSnapshot;
import org.supplyhub.config.InterfaceCatalog;
import org.supplyhub.config.InterfaceCatalog.TemplatedRoute;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.ingest.IngestConfiguration.HubProperties;
import org.supplyhub.journal.AuditLog;
import org.supplyhub.mapping.ConfigurationException;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Live reload of {@code routes/} and {@code mappings/}. The whole new set is loaded and checked
 * first (catalog, then every {@link ConfigParticipant}); a set with any problem is refused and the
 * running one stays. A valid set is swapped in one step: routes that went away or changed how they
 * listen are stopped (gracefully: the messages they are processing finish on the old set), the
 * snapshot is replaced, new and changed routes are created and started. Routes whose shape did not
 * change keep running untouched; they read their interface's or destination's definition from the
 * new snapshot from the next message or poll on. Every attempt is audited with each file's SHA-256.
 */
@Service
public class ConfigReloader {

    private static final Logger log = LoggerFactory.getLogger(ConfigReloader.class);

    /** Who a reload the file watcher started is audited as. */
    public static final String FILE_WATCH = "file-watch";

    /** How a reload ended. */
    public enum Outcome {
        /** The new set runs. */
        APPLIED,
        /** The files are the ones running: nothing to do. */
        UNCHANGED,
        /** The new set has problems; the running set stays. */
        REFUSED,
        /**
         * The new set was valid but could not be started (e.g. a port in use); the previous set was put
         * back whole.
         */
        FAILED,
        /** As FAILED, but some routes of the previous set could not be put back (the problems after the first). */
        FAILED_PARTLY_RESTORED
    }

    /** What one reload did: started, stopped and restarted routes by interface/destination key; problems if refused. */
    public record Result(Outcome outcome, String actor, Instant at, List<String> problems, List<String> started,
                         List<String> stopped, List<String> restarted, Map<String, String> files) {
        public Result {
            problems = List.copyOf(problems);
            started = List.copyOf(started);
            stopped = List.copyOf(stopped);
            restarted = List.copyOf(restarted);
            files = Map.copyOf(files);
        }
    }

    private final RunningConfig running;
    private final CamelContext camel;
    private final AuditLog audit;
    private final ObjectProvider<ConfigParticipant> participants;
    private final HubProperties hub;
    private final Duration stopTimeout;
    private volatile Result last;

    public ConfigReloader(RunningConfig running, CamelContext camel, AuditLog audit,
                          ObjectProvider<ConfigParticipant> participants, HubProperties hub,
                          @Value("${hub.config.stop-timeout:30s}") Duration stopTimeout) {
        this.running = running;
        this.camel = camel;
        this.audit = audit;
        this.participants = participants;
        this.hub = hub;
        this.stopTimeout = stopTimeout;
    }

    /** The last reload since start, or null. */
    public Result last() {
        return last;
    }

    /** Loads, checks and (if valid) swaps in the files as they are now; one reload at a time. */
    public synchronized Result reload(String actor) {
        Instant at = Instant.now();
        ConfigSnapshot current = running.current();
        ConfigSnapshot next;
        try {
            next = ConfigSnapshot.load(hub.routesDir(), hub.mappingsDir());
            for (ConfigParticipant participant : participants.orderedStream().toList()) {
                participant.check(next.catalog());
            }
        } catch (ConfigurationException e) {
            List<String> problems = e.problems().stream().map(ConfigurationException.Problem::toString).toList();
            problems.forEach(p -> log.warn("Configuration reload refused: {}", p));
            return finish(new Result(Outcome.REFUSED, actor, at, problems, List.of(), List.of(), List.of(),
                    safeHashes(current)), current);
        } catch (RuntimeException e) {
            // not a problem of the files but a defect: refused all the same, with its trace in the log
            log.error("Configuration reload refused: the new set could not be read", e);
            return finish(new Result(Outcome.REFUSED, actor, at, List.of("the new set could not be read: "
                    + e.getClass().getSimpleName()), List.of(), List.of(), List.of(), safeHashes(current)), current);
        }

        Plan plan = Plan.of(current.catalog(), next.catalog());
        if (plan.isEmpty() && next.files().equals(current.files())) {
            log.info("Configuration reload: no file changed");
            return finish(new Result(Outcome.UNCHANGED, actor, at, List.of(), List.of(), List.of(), List.of(),
                    next.files()), next);
        }
        try {
            apply(plan, current, next);
        } catch (RouteFailure e) {
            log.error("Configuration reload failed, the previous set is put back: {}", e.getMessage());
            List<String> problems = new ArrayList<>(List.of(e.getMessage()));
            List<String> notRestored = restore(plan, current);
            problems.addAll(notRestored);
            return finish(new Result(notRestored.isEmpty() ? Outcome.FAILED : Outcome.FAILED_PARTLY_RESTORED, actor,
                    at, problems, List.of(), List.of(), List.of(), next.files()), current);
        }
        log.info("Configuration reloaded ({} files): started {}, stopped {}, restarted {}", next.files().size(),
                plan.keys(plan.added), plan.keys(plan.removed), plan.keys(plan.changedNew));
        for (String file : next.catalog().filesWithOtherRoutes()) {
            if (!Objects.equals(next.files().get(file), current.files().get(file))) {
                log.warn("{}: changed; its routes that are not made from the hub's templates change at the next restart",
                        file);
            }
        }
        return finish(new Result(Outcome.APPLIED, actor, at, List.of(), plan.keys(plan.added), plan.keys(plan.removed),
                plan.keys(plan.changedNew), next.files()), next);
    }

    private Map<String, String> safeHashes(ConfigSnapshot fallback) {
        try {
            return ConfigFiles.hashes(hub.routesDir(), hub.mappingsDir());
        } catch (ConfigurationException e) {
            return fallback.files();
        }
    }

    private Result finish(Result result, ConfigSnapshot runningNow) {
        last = result;
        String detail = switch (result.outcome()) {
            case REFUSED, FAILED, FAILED_PARTLY_RESTORED -> String.join("; ", result.problems());
            case UNCHANGED -> "no file changed";
            case APPLIED -> "started " + result.started() + ", stopped " + result.stopped() + ", restarted "
                    + result.restarted() + "; running set loaded at " + runningNow.loadedAt();
        };
        audit.configReload(result.actor(), result.outcome().name(), detail, result.files());
        return result;
    }

    /**
     * The order that keeps every message whole: stop what goes, swap, let participants publish what the
     * new routes resolve when created (SSL contexts), create what comes, tell participants, start it.
     */
    private void apply(Plan plan, ConfigSnapshot current, ConfigSnapshot next) throws RouteFailure {
        List<TemplatedRoute> stopping = new ArrayList<>(plan.removed);
        stopping.addAll(plan.changedOld);
        for (TemplatedRoute route : stopping) {
            remove(route);
        }
        running.swap(next);
        publish(next.catalog());
        List<String> created = new ArrayList<>();
        List<TemplatedRoute> starting = new ArrayList<>(plan.added);
        starting.addAll(plan.changedNew);
        for (TemplatedRoute route : starting) {
            created.add(create(route));
        }
        activate(next.catalog());
        for (int i = 0; i < created.size(); i++) {
            start(starting.get(i), created.get(i));
        }
    }

    /**
     * Puts the previous set back: its snapshot, its participants' bindings, and its routes that the
     * failed reload stopped. Returns what could not be put back (empty when the previous set runs whole).
     */
    private List<String> restore(Plan plan, ConfigSnapshot previous) {
        List<String> notRestored = new ArrayList<>();
        List<TemplatedRoute> created = new ArrayList<>(plan.added);
        created.addAll(plan.changedNew);
        for (TemplatedRoute route : created) {
            try {
                remove(route);
            } catch (RouteFailure e) {
                notRestored.add("not restored: " + e.getMessage());
            }
        }
        running.swap(previous);
        publish(previous.catalog());
        List<TemplatedRoute> stopped = new ArrayList<>(plan.removed);
        stopped.addAll(plan.changedOld);
        List<Map.Entry<TemplatedRoute, String>> recreated = new ArrayList<>();
        for (TemplatedRoute route : stopped) {
            try {
                recreated.add(Map.entry(route, create(route)));
            } catch (RouteFailure e) {
                notRestored.add("not restored: " + e.getMessage());
            }
        }
        activate(previous.catalog());
        for (Map.Entry<TemplatedRoute, String> route : recreated) {
            try {
                start(route.getKey(), route.getValue());
            } catch (RouteFailure e) {
                notRestored.add("not restored: " + e.getMessage());
            }
        }
        notRestored.forEach(p -> log.error("While restoring the previous set: {}", p));
        return notRestored;
    }

    private void publish(InterfaceCatalog catalog) {
        for (ConfigParticipant participant : participants.orderedStream().toList()) {
            try {
                participant.publish(catalog);
            } catch (RuntimeException e) {
                // the set is checked already; one participant's slip must not leave the swap half done
                log.error("{} could not publish the new configuration", participant.getClass().getSimpleName(), e);
            }
        }
    }

    private void activate(InterfaceCatalog catalog) {
        for (ConfigParticipant participant : participants.orderedStream().toList()) {
            try {
                participant.activate(catalog);
            } catch (RuntimeException e) {
                // the set is checked already; one participant's slip must not leave the swap half done
                log.error("{} could not take the new configuration", participant.getClass().getSimpleName(), e);
            }
        }
    }

    /** Stops the route gracefully (its exchanges in flight complete), then removes it from Camel. */
    private void remove(TemplatedRoute route) throws RouteFailure {
        String id = runningRouteId(route);
        if (id == null) {
            return; // not running (a failed earlier start); nothing to stop
        }
        try {
            camel.getRouteController().stopRoute(id, stopTimeout.toMillis(), TimeUnit.MILLISECONDS);
            RouteDefinition definition = ((ModelCamelContext) camel).getRouteDefinition(id);
            if (definition != null) {
                ((ModelCamelContext) camel).removeRouteDefinition(definition);
            }
            camel.removeRoute(id);
        } catch (Exception e) {
            throw new RouteFailure(route, "cannot be stopped", e);
        }
    }

    /** Creates the route from its template, not yet started (participants see it before a connection can). */
    private String create(TemplatedRoute route) throws RouteFailure {
        Map<String, Object> parameters = new LinkedHashMap<>(route.parameters());
        try {
            return TemplatedRouteBuilder.builder(camel, route.template()).routeId(route.routeId())
                    .parameters(parameters)
                    // this reloader starts every route it creates, after the participants have seen it
                    .handler(template -> template.getRoute().setAutoStartup("false"))
                    .add();
        } catch (Exception e) {
            throw new RouteFailure(route, "cannot be created", e);
        }
    }

    private void start(TemplatedRoute route, String id) throws RouteFailure {
        try {
            camel.getRouteController().startRoute(id);
        } catch (Exception e) {
            throw new RouteFailure(route, "cannot be started", e);
        }
    }

    /** The Camel route serving this interface or destination: by routeId, else by its template parameter. */
    private String runningRouteId(TemplatedRoute route) {
        if (route.routeId() != null) {
            return camel.getRoute(route.routeId()) != null ? route.routeId() : null;
        }
        String parameter = route.isDestination() ? "destination" : "interfaceId";
        for (RouteDefinition definition : ((ModelCamelContext) camel).getRouteDefinitions()) {
            Map<String, Object> parameters = definition.getTemplateParameters();
            if (parameters != null && route.name().equals(Objects.toString(parameters.get(parameter), null))
                    && camel.getRoute(definition.getRouteId()) != null) {
                return definition.getRouteId();
            }
        }
        return null;
    }

    /** Which routes a reload stops, starts and restarts, by interface or destination. */
    record Plan(List<TemplatedRoute> removed, List<TemplatedRoute> added, List<TemplatedRoute> changedOld,
                List<TemplatedRoute> changedNew) {

        static Plan of(InterfaceCatalog from, InterfaceCatalog to) {
            Map<String, TemplatedRoute> before = byKey(from);
            Map<String, TemplatedRoute> after = byKey(to);
            Plan plan = new Plan(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            before.forEach((key, old) -> {
                TemplatedRoute now = after.get(key);
                if (now == null) {
                    plan.removed.add(old);
                } else if (!now.shape().equals(old.shape())) {
                    plan.changedOld.add(old);
                    plan.changedNew.add(now);
                }
            });
            after.forEach((key, now) -> {
                if (!before.containsKey(key)) {
                    plan.added.add(now);
                }
            });
            return plan;
        }

        private static Map<String, TemplatedRoute> byKey(InterfaceCatalog catalog) {
            Map<String, TemplatedRoute> byKey = new LinkedHashMap<>();
            catalog.routes().forEach(r -> byKey.put(r.key(), r));
            return byKey;
        }

        boolean isEmpty() {
            return removed.isEmpty() && added.isEmpty() && changedOld.isEmpty();
        }

        List<String> keys(List<TemplatedRoute> routes) {
            return routes.stream().map(TemplatedRoute::key).toList();
        }
    }

    /** A route of a valid set that Camel would not stop, create or start (a port in use, a bad endpoint). */
    static final class RouteFailure extends Exception {
        RouteFailure(TemplatedRoute route, String what, Exception cause) {
            super(route.file() + ": " + route.key().replace(':', ' ') + " " + what + ": " + rootMessage(cause), cause);
        }

        private static String rootMessage(Throwable e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : " (" + root.getMessage() + ")");
        }
    }
}
