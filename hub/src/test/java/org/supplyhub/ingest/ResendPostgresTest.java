package org.supplyhub.ingest;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.TestDatabases;

/** Resend identity, reused control ids, ERROR resends and reprocess on Postgres. */
class ResendPostgresTest extends AbstractResendTest {

    @DynamicPropertySource
    static void postgres(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
    }
}
