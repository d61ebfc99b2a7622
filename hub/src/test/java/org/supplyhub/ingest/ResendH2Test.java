package org.supplyhub.ingest;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.TestDatabases;

/** Resend identity, reused control ids, ERROR resends and reprocess on H2. */
class ResendH2Test extends AbstractResendTest {

    @DynamicPropertySource
    static void h2(DynamicPropertyRegistry registry) {
        TestDatabases.h2().forEach((k, v) -> registry.add(k, () -> v));
    }
}
