package org.supplyhub.ingest;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.TestDatabases;

/** Live reload on PostgreSQL, the production database. */
class LiveReloadPostgresTest extends AbstractLiveReloadTest {

    @DynamicPropertySource
    static void postgres(DynamicPropertyRegistry registry) {
        database(registry, TestDatabases.postgres());
    }
}
