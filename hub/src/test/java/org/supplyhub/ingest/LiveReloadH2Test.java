package org.supplyhub.ingest;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.TestDatabases;

/** Live reload on H2, the embedded default. */
class LiveReloadH2Test extends AbstractLiveReloadTest {

    @DynamicPropertySource
    static void h2(DynamicPropertyRegistry registry) {
        database(registry, TestDatabases.h2());
    }
}
