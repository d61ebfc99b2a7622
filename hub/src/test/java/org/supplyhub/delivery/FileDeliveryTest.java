package org.supplyhub.delivery;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

/** {@link FileDeliveryScenarios} on PostgreSQL. */
class FileDeliveryTest extends FileDeliveryScenarios {

    static final TestInterfaces INTERFACES = withUnwritableInventory();

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.postgres().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    @Override
    TestInterfaces interfaces() {
        return INTERFACES;
    }
}
