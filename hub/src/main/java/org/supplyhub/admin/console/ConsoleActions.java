package org.supplyhub.admin.console;

import jakarta.servlet.http.HttpServletResponse;
import org.springframework.stereotype.Controller;
import org.springframework.ui.Model;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.ModelAttribute;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.servlet.mvc.support.RedirectAttributes;
import org.supplyhub.admin.AdminController;
import org.supplyhub.admin.BulkReplay;
import org.supplyhub.admin.DestinationStatus;
import org.supplyhub.admin.MessageQueries;
import org.supplyhub.ingest.IntakeService;
import org.supplyhub.journal.AuditEvent;
import org.supplyhub.journal.AuditLog;

import java.util.List;
import java.util.Map;

import static org.springframework.http.HttpStatus.FORBIDDEN;

/**
 * The operator's actions ({@code messages:replay}): replay a message's dead deliveries, re-map it,
 * replay many by filter (count first, then confirm), pause and resume a destination. Each is
 * audited with the person's identity and its outcome, and answered with a redirect and a flash
 * message (post/redirect/get), so a reload never repeats it.
 */
@Controller
@RequestMapping("/console")
public class ConsoleActions {

    private final MessageQueries messages;
    private final IntakeService intake;
    private final BulkReplay bulk;
    private final DestinationStatus destinations;
    private final AuditLog audit;
    private final ConsoleController pages;

    public ConsoleActions(MessageQueries messages, IntakeService intake, BulkReplay bulk, DestinationStatus destinations,
                          AuditLog audit, ConsoleController pages) {
        this.messages = messages;
        this.intake = intake;
        this.bulk = bulk;
        this.destinations = destinations;
        this.audit = audit;
        this.pages = pages;
    }

    @PostMapping("/messages/{id}/replay")
    public String replay(@PathVariable long id, @RequestParam(required = false) String destination,
                         @ModelAttribute("user") ConsoleUser user, RedirectAttributes flash, Model model,
                         HttpServletResponse response) {
        operator(user);
        String to = destination == null || destination.isBlank() ? null : destination;
        if (messages.find(id).isEmpty()) {
            audit.record(AuditEvent.of(user.actor(), "REPLAY").message(id).outcome("404"));
            return notFound(id, model, response);
        }
        int replayed = messages.replay(id, to);
        audit.record(AuditEvent.of(user.actor(), "REPLAY").target("message " + id + (to == null ? "" : " to " + to))
                .message(id).outcome("OK").detail(replayed + " dead deliveries made due"));
        return flash(flash, replayed > 0 ? "ok" : "error", replayed > 0
                        ? replayed + " dead " + (replayed == 1 ? "delivery" : "deliveries") + " of message " + id
                        + " queued again" + (to == null ? "." : " to " + to + ".")
                        : "Message " + id + " has no dead deliveries" + (to == null ? "" : " to " + to) + ": nothing replayed.",
                "redirect:/console/messages/" + id);
    }

    @PostMapping("/messages/{id}/reprocess")
    public String reprocess(@PathVariable long id, @ModelAttribute("user") ConsoleUser user, RedirectAttributes flash,
                            Model model, HttpServletResponse response) {
        operator(user);
        IntakeService.Reprocessed r = intake.reprocess(id);
        if (r.outcome() == IntakeService.Reprocessed.Outcome.NOT_FOUND) {
            audit.record(AuditEvent.of(user.actor(), "REPROCESS").message(id).outcome("404"));
            return notFound(id, model, response);
        }
        audit.record(AuditEvent.of(user.actor(), "REPROCESS").message(id).outcome(r.outcome().name())
                .detail(r.revisionId() == null ? AdminController.truncateDetail(r.detail())
                        : "revision message " + r.revisionId()));
        return switch (r.outcome()) {
            case ACCEPTED -> flash(flash, "ok", "Message " + id + " re-mapped: revision " + r.revisionId() + " accepted.",
                    "redirect:/console/messages/" + r.revisionId());
            case CONFLICT -> flash(flash, "error", "Not re-mapped: " + r.detail(), "redirect:/console/messages/" + id);
            default -> flash(flash, "error", "Still does not map: " + r.detail(), "redirect:/console/messages/" + id);
        };
    }

    /** The bulk replay form: with a filter, how many dead deliveries it matches, and a button to confirm. */
    @GetMapping("/replay")
    public String bulkForm(@RequestParam Map<String, String> params, Model model, HttpServletResponse response,
                           @ModelAttribute("user") ConsoleUser user, @ModelAttribute("times") ConsoleModel.Times times) {
        operator(user);
        MessageFilter filter = MessageFilter.of(params);
        pages.formOptions(model);
        model.addAttribute("filter", filter);
        List<String> errors = filter.errors(times.zone());
        if (!errors.isEmpty()) {
            response.setStatus(HttpServletResponse.SC_BAD_REQUEST);
            model.addAttribute("errors", errors);
            return "console/replay";
        }
        if (params.containsKey("count")) {
            model.addAttribute("counted", bulk.run(filter.search(times.zone(), BulkReplay.MAX_MESSAGES),
                    filter.destination(), true, user.actor()));
            model.addAttribute("confirm", filter.params());
        }
        return "console/replay";
    }

    @PostMapping("/replay")
    public String bulkReplay(@RequestParam Map<String, String> params, @ModelAttribute("user") ConsoleUser user,
                             @ModelAttribute("times") ConsoleModel.Times times, RedirectAttributes flash) {
        operator(user);
        MessageFilter filter = MessageFilter.of(params);
        if (!filter.errors(times.zone()).isEmpty()) {
            return flash(flash, "error", "The filter could not be read: " + String.join("; ", filter.errors(times.zone())),
                    "redirect:/console/replay");
        }
        BulkReplay.Result r = bulk.run(filter.search(times.zone(), BulkReplay.MAX_MESSAGES), filter.destination(), false,
                user.actor());
        return r.replayed()
                ? flash(flash, "ok", r.deliveries() + " dead deliveries of " + r.messages() + " messages queued again.",
                        "redirect:/console")
                : flash(flash, "error", "The filter matches more than " + BulkReplay.MAX_MESSAGES
                        + " messages: nothing replayed. Narrow it (since, until, interface).", "redirect:/console/replay");
    }

    @PostMapping("/destinations/{name}/pause")
    public String pause(@PathVariable String name, @ModelAttribute("user") ConsoleUser user, RedirectAttributes flash) {
        return setPaused(name, true, user, flash);
    }

    @PostMapping("/destinations/{name}/resume")
    public String resume(@PathVariable String name, @ModelAttribute("user") ConsoleUser user, RedirectAttributes flash) {
        return setPaused(name, false, user, flash);
    }

    private String setPaused(String name, boolean paused, ConsoleUser user, RedirectAttributes flash) {
        operator(user);
        return destinations.setPaused(name, paused, user.actor())
                .map(changed -> flash(flash, "ok", "Destination " + name + (changed ? (paused ? " paused" : " resumed")
                        : paused ? " was already paused" : " was already running") + ".", "redirect:/console"))
                .orElseGet(() -> flash(flash, "error", "No destination " + name + " is running.", "redirect:/console"));
    }

    /** An action on a message the journal does not have: a 404 page, not a redirect (nothing was done). */
    private static String notFound(long id, Model model, HttpServletResponse response) {
        response.setStatus(HttpServletResponse.SC_NOT_FOUND);
        model.addAttribute("problem", "No message " + id + " in the journal: nothing was done.");
        return "console/error";
    }

    /** The security chain already refuses a viewer's POST; this keeps the rule if the chain is misconfigured. */
    private static void operator(ConsoleUser user) {
        if (!user.canReplay()) {
            throw new ResponseStatusException(FORBIDDEN, "operators only (messages:replay)");
        }
    }

    private static String flash(RedirectAttributes flash, String kind, String text, String view) {
        flash.addFlashAttribute("flashKind", kind);
        flash.addFlashAttribute("flash", text);
        return view;
    }
}
