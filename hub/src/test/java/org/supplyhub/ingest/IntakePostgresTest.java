package org.supplyhub.ingest;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.TestDatabases;

/** The intake contract on PostgreSQL. */
class IntakePostgresTest extends AbstractIntakeTest {

    @DynamicPropertySource
    static void postgres(DynamicPropertyRegistry registry) {
        database(registry, TestDatabases.postgres());
    }
}
