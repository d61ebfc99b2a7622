package org.supplyhub.security;

import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Present only in the default mode, where the hub runs its own issuer: naming an external issuer
 * ({@code issuer-uri} or {@code jwk-set-uri}) turns everything carrying this off.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ConditionalOnExpression("'${spring.security.oauth2.resourceserver.jwt.issuer-uri:}' == ''"
        + " and '${spring.security.oauth2.resourceserver.jwt.jwk-set-uri:}' == ''")
public @interface EmbeddedIssuerMode {
}
