package org.supplyhub.security;

import org.springframework.security.oauth2.core.OAuth2Error;
import org.springframework.security.oauth2.core.OAuth2TokenValidatorResult;

/**
 * Why a bearer token was refused, as the hub's validators report it: the 401's detail and its audit
 * row are read from this, never from an exception's text.
 */
enum TokenFault {
    NO_TOKEN("no bearer token was sent"),
    MALFORMED("the token is malformed"),
    UNREADABLE("the token could not be read (malformed, or inconsistent claims)"),
    SIGNATURE("the token's signature does not verify (wrong key or algorithm)"),
    NO_EXPIRY("the token has no expiry (exp)"),
    EXPIRED("the token has expired"),
    NOT_YET_VALID("the token is not valid yet"),
    ISSUER("the token is from an issuer this hub does not trust"),
    AUDIENCE("the token is not meant for this hub (audience)"),
    NO_SUBJECT("the token names no subject (sub)"),
    OTHER("the token was not accepted");

    final String reason;

    TokenFault(String reason) {
        this.reason = reason;
    }

    OAuth2TokenValidatorResult result() {
        return OAuth2TokenValidatorResult.failure(new Error(this));
    }

    /** An RFC 6750 {@code invalid_token} error that knows which check failed. */
    static final class Error extends OAuth2Error {
        final TokenFault fault;

        Error(TokenFault fault) {
            super("invalid_token", fault.reason, null);
            this.fault = fault;
        }
    }
}
