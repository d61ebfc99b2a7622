package org.supplyhub.security;

import org.springframework.stereotype.Controller;
import org.springframework.web.bind.annotation.GetMapping;

/** The embedded issuer's sign-in page; the form posts to {@code /login}, which Spring Security handles. */
@Controller
@EmbeddedIssuerMode
class IssuerLoginController {

    @GetMapping(EmbeddedIssuerConfiguration.LOGIN)
    String login() {
        return "issuer/login";
    }
}
