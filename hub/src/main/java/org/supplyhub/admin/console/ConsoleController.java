package org.supplyhub.admin.console;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.servlet.http.HttpServletResponse;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.ModelAttribute;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;
import org.springframework.web.util.UriComponentsBuilder;
import org.supplyhub.admin.DestinationStatus;
import org.supplyhub.admin.MessageQueries;
import org.supplyhub.config.RunningConfig;
import org.supplyhub.delivery.HeldCharges;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The console's pages: dashboard (and its htmx fragments), message search, message page and audit
 * trail. Every page that shows message content, and every search, is audited with the person's
 * identity like the admin API; the dashboard shows counts only and is not.
 */
@Controller
@RequestMapping("/console")
public class ConsoleController {

    static final int PAGE = 50;

    private final InterfaceStats interfaces;
    private final DestinationStatus destinations;
    private final MessageQueries messages;
    private final HeldCharges flags;
    private final AuditLog audit;
    private final RunningConfig config;
    private final ObjectMapper json;

    public ConsoleController(InterfaceStats interfaces, DestinationStatus destinations, MessageQueries messages,
                             HeldCharges flags, AuditLog audit, RunningConfig config, ObjectMapper json) {
        this.interfaces = interfaces;
        this.destinations = destinations;
        this.messages = messages;
        this.flags = flags;
        this.audit = audit;
        this.config = config;
        this.json = json;
    }

    @GetMapping
    public String dashboard(Model model, @ModelAttribute("times") ConsoleModel.Times times) {
        model.addAttribute("interfaces", interfaces.all(times.zone()));
        model.addAttribute("destinations", destinations.all());
        return "console/dashboard";
    }

    @GetMapping("/fragments/interfaces")
    public String interfacesFragment(Model model, @ModelAttribute("times") ConsoleModel.Times times) {
        model.addAttribute("interfaces", interfaces.all(times.zone()));
        return "console/dashboard :: interfaces";
    }

    @GetMapping("/fragments/destinations")
    public String destinationsFragment(Model model) {
        model.addAttribute("destinations", destinations.all());
        return "console/dashboard :: destinations";
    }

    @GetMapping("/messages")
    public String search(@RequestParam Map<String, String> params, Model model, HttpServletResponse response,
                         @ModelAttribute("user") ConsoleUser user, @ModelAttribute("times") ConsoleModel.Times times) {
        MessageFilter filter = MessageFilter.of(params);
        formOptions(model);
        model.addAttribute("filter", filter);
        List<String> errors = filter.errors(times.zone());
        if (!errors.isEmpty()) {
            response.setStatus(HttpServletResponse.SC_BAD_REQUEST);
            model.addAttribute("errors", errors);
            model.addAttribute("found", List.of());
            return "console/messages";
        }
        List<MessageQueries.Summary> found = messages.search(filter.search(times.zone(), PAGE));
        // like the API: a patient search is named by the patient's key, never the MRN
        audit.record(AuditEvent.of(user.actor(), "MESSAGE_SEARCH").interfaceId(filter.interfaceId())
                .target(filter.controlId() != null ? "control id " + filter.controlId()
                        : filter.patient() != null ? "patient" : filter.account() != null ? "account"
                        : "status " + (filter.status() == null ? "any" : filter.status()))
                .patientKey(messages.patientKey(filter.patient())).outcome("OK")
                .detail(found.size() + " found (console)"));
        model.addAttribute("found", found);
        if (found.size() == PAGE) {
            UriComponentsBuilder next = ServletUriComponentsBuilder.fromCurrentContextPath().path("/console/messages");
            filter.params().forEach(next::queryParam);
            next.queryParam("before", found.get(found.size() - 1).id());
            model.addAttribute("next", next.build().encode().toUriString());
        }
        return "console/messages";
    }

    @GetMapping("/messages/{id}")
    public String message(@PathVariable long id, Model model, HttpServletResponse response,
                          @ModelAttribute("user") ConsoleUser user) {
        var summary = messages.find(id);
        if (summary.isEmpty()) {
            audit.record(AuditEvent.of(user.actor(), "MESSAGE_READ").message(id).outcome("404").detail("console page"));
            response.setStatus(HttpServletResponse.SC_NOT_FOUND);
            model.addAttribute("problem", "No message " + id + " in the journal.");
            return "console/error";
        }
        audit.record(AuditEvent.of(user.actor(), "MESSAGE_READ").interfaceId(summary.get().interfaceId()).message(id)
                .outcome("OK").detail("console page"));
        model.addAttribute("m", summary.get());
        // a purged message's raw column holds the retention tombstone, not segments
        model.addAttribute("segments", summary.get().purged() != null ? List.of() : Er7View.of(messages.raw(id).orElse("")));
        model.addAttribute("usage", messages.usage(id).map(this::pretty).orElse(null));
        List<Map<String, String>> outputs = new ArrayList<>();
        for (MessageQueries.Output o : messages.outputs(id)) {
            outputs.add(Map.of("title", o.resourceType() + "/" + o.resourceId() + " (line " + o.lineNo() + ")",
                    "json", pretty(o.resource())));
        }
        model.addAttribute("outputs", outputs);
        List<MessageQueries.Delivery> deliveries = messages.deliveries(id);
        model.addAttribute("deliveries", deliveries);
        model.addAttribute("anyDead", deliveries.stream().anyMatch(d -> "DEAD".equals(d.status())));
        model.addAttribute("flags", flags.ofMessage(id));
        return "console/message";
    }

    @GetMapping("/audit")
    public String audit(@RequestParam(required = false) String actor, @RequestParam(required = false) String action,
                        @RequestParam(required = false) String since, @RequestParam(required = false) Long before,
                        Model model, HttpServletResponse response, @ModelAttribute("user") ConsoleUser user,
                        @ModelAttribute("times") ConsoleModel.Times times) {
        if (!user.canReadAudit()) {
            response.setStatus(HttpServletResponse.SC_FORBIDDEN);
            model.addAttribute("problem", "The audit trail is for administrators (audit:read).");
            return "console/error";
        }
        String actorFilter = blank(actor);
        String actionFilter = blank(action);
        String sinceText = blank(since);
        var sinceAt = MessageFilter.time(sinceText, times.zone());
        model.addAttribute("actor", actorFilter);
        model.addAttribute("action", actionFilter);
        model.addAttribute("since", sinceText);
        if (sinceText != null && sinceAt == null) {
            response.setStatus(HttpServletResponse.SC_BAD_REQUEST);
            model.addAttribute("errors", List.of("since: a date and time like 2026-11-29T08:00"));
            model.addAttribute("events", List.of());
            return "console/audit";
        }
        List<AuditLog.Event> events = audit.search(actorFilter, actionFilter, sinceAt, before, PAGE);
        audit.record(AuditEvent.of(user.actor(), "AUDIT_READ").target(actorFilter != null ? "actor " + actorFilter : "all")
                .outcome("OK").detail(events.size() + " events (console)"));
        model.addAttribute("events", events);
        if (events.size() == PAGE) {
            UriComponentsBuilder next = ServletUriComponentsBuilder.fromCurrentContextPath().path("/console/audit");
            if (actorFilter != null) next.queryParam("actor", actorFilter);
            if (actionFilter != null) next.queryParam("action", actionFilter);
            if (sinceText != null) next.queryParam("since", sinceText);
            next.queryParam("before", events.get(events.size() - 1).id());
            model.addAttribute("next", next.build().encode().toUriString());
        }
        return "console/audit";
    }

    /** The choices of the search forms: interfaces and destinations of the running configuration. */
    void formOptions(Model model) {
        model.addAttribute("interfaceIds", config.all().stream().map(i -> i.id()).sorted().toList());
        model.addAttribute("destinationNames", config.destinations().stream().map(d -> d.name()).sorted().toList());
        model.addAttribute("statuses", List.of("ACCEPTED", "ERROR", "REJECTED"));
        model.addAttribute("acks", List.of("AA", "AE", "AR"));
    }

    private String pretty(String text) {
        try {
            return json.writerWithDefaultPrettyPrinter().writeValueAsString(json.readTree(text));
        } catch (JsonProcessingException e) {
            return text;
        }
    }

    private static String blank(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }
}
