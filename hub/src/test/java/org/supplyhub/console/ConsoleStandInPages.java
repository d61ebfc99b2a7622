package org.supplyhub.console;

import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;
import org.springframework.security.core.context.SecurityContextHolder;
import org.springframework.security.web.csrf.CsrfToken;
import org.springframework.web.HttpRequestHandler;
import org.springframework.web.servlet.handler.SimpleUrlHandlerMapping;
import org.springframework.web.util.HtmlUtils;
import org.supplyhub.security.ConsoleRole;
import org.supplyhub.security.ConsoleUser;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * A stand-in for the console's dashboard while the real pages are written elsewhere: it renders the
 * page markers the sign-in tests read ({@code #signed-in-user}, {@code #signed-in-role}, the logout form,
 * {@code .action} controls for an operator only). Its handler mapping comes last, so once the real
 * console is on the class path its {@code /console} wins and this one is never asked.
 */
@TestConfiguration
public class ConsoleStandInPages {

    @Bean
    SimpleUrlHandlerMapping consoleStandIn() {
        HttpRequestHandler dashboard = (request, response) -> {
            ConsoleUser user = ConsoleUser.of(SecurityContextHolder.getContext().getAuthentication()).orElseThrow();
            CsrfToken csrf = (CsrfToken) request.getAttribute(CsrfToken.class.getName());
            String hidden = "<input type=\"hidden\" name=\"" + csrf.getParameterName() + "\" value=\"" + csrf.getToken() + "\">";
            boolean operator = user.role().compareTo(ConsoleRole.OPERATOR) >= 0;
            String html = "<!DOCTYPE html><html lang=\"en\"><head><title>Console (stand-in)</title></head><body>"
                    + "<header><span id=\"signed-in-user\">" + HtmlUtils.htmlEscape(user.name()) + "</span> "
                    + "<span id=\"signed-in-role\">" + user.role().id() + "</span>"
                    + "<form id=\"logout\" method=\"post\" action=\"/console/logout\">" + hidden
                    + "<button type=\"submit\">Sign out</button></form></header>"
                    + "<main><h1>Dashboard</h1><table id=\"interfaces\"><tr><td>mercy-or</td></tr></table>"
                    + (operator ? "<form method=\"post\" action=\"/console/messages/1/replay\">" + hidden
                    + "<button class=\"action\" type=\"submit\">Replay</button></form>" : "")
                    + "</main></body></html>";
            response.setContentType("text/html;charset=UTF-8");
            response.getOutputStream().write(html.getBytes(StandardCharsets.UTF_8));
        };
        SimpleUrlHandlerMapping mapping = new SimpleUrlHandlerMapping(Map.of("/console", dashboard));
        mapping.setOrder(Ordered.LOWEST_PRECEDENCE - 10);
        return mapping;
    }
}
