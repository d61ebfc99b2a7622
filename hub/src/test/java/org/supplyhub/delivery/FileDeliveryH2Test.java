package org.supplyhub.delivery;

import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.supplyhub.support.TestDatabases;
import org.supplyhub.support.TestInterfaces;

/** {@link FileDeliveryScenarios} on the embedded H2 database of the default run. */
class FileDeliveryH2Test extends FileDeliveryScenarios {

    static final TestInterfaces INTERFACES = withUnwritableInventory();

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        TestDatabases.h2().forEach((k, v) -> registry.add(k, () -> v));
        INTERFACES.properties().forEach((k, v) -> registry.add(k, () -> v));
    }

    @Override
    TestInterfaces interfaces() {
        return INTERFACES;
    }
}
