package org.supplyhub.ingest;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.TestDatabases;

/** The intake contract on H2, the embedded default. */
class IntakeH2Test extends AbstractIntakeTest {

    @DynamicPropertySource
    static void h2(DynamicPropertyRegistry registry) {
        database(registry, TestDatabases.h2());
    }
}
