package org.supplyhub.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import org.junit.jupiter.api.Test;
import org.supplyhub.journal.AuditLog;

import static com.tngtech.archunit.base.DescribedPredicate.not;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.belongToAnyOf;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package structure of DESIGN.md, enforced: dependencies point one way, from {@code hl7}
 * (parse, ACK) through {@code mapping} (profiles, canonical usage, FHIR) and {@code config}
 * (interfaces, destinations) to the runtime packages ({@code ingest}, {@code delivery},
 * {@code security}) and the front ends ({@code admin}, {@code cli}); the {@code journal} serves
 * the runtime packages and admin only.
 */
class ArchitectureTest {

    private static final JavaClasses HUB = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.supplyhub");

    @Test
    void packagesHaveNoCycles() {
        slices().matching("org.supplyhub.(*)..").should().beFreeOfCycles().check(HUB);
    }

    @Test
    void dependenciesFollowTheLayers() {
        LayeredArchitecture layers = layeredArchitecture().consideringOnlyDependenciesInLayers()
                .layer("hl7").definedBy("org.supplyhub.hl7..")
                .layer("mapping").definedBy("org.supplyhub.mapping..")
                .layer("safety").definedBy("org.supplyhub.safety..")
                .layer("config").definedBy("org.supplyhub.config..")
                .layer("journal").definedBy("org.supplyhub.journal..")
                .layer("ingest").definedBy("org.supplyhub.ingest..")
                .layer("delivery").definedBy("org.supplyhub.delivery..")
                .layer("security").definedBy("org.supplyhub.security..")
                .layer("health").definedBy("org.supplyhub.health..")
                .layer("admin").definedBy("org.supplyhub.admin..")
                .layer("audit").definedBy("org.supplyhub.audit..")
                .layer("retention").definedBy("org.supplyhub.retention..")
                .layer("report").definedBy("org.supplyhub.report..")
                .optionalLayer("cli").definedBy("org.supplyhub.cli..")
                .optionalLayer("application").definedBy("org.supplyhub")

                .whereLayer("hl7").mayNotAccessAnyLayer()
                .whereLayer("mapping").mayOnlyAccessLayers("hl7")
                .whereLayer("safety").mayOnlyAccessLayers("hl7", "mapping")
                .whereLayer("config").mayOnlyAccessLayers("hl7", "mapping", "safety")
                .whereLayer("journal").mayOnlyAccessLayers("hl7", "mapping", "safety")
                .whereLayer("ingest").mayOnlyAccessLayers("hl7", "mapping", "safety", "config", "journal")
                .whereLayer("delivery").mayOnlyAccessLayers("hl7", "mapping", "safety", "config", "journal")
                .whereLayer("security").mayOnlyAccessLayers("hl7", "mapping", "config", "journal")
                .whereLayer("health").mayOnlyAccessLayers("journal")
                .whereLayer("admin").mayOnlyAccessLayers("hl7", "mapping", "safety", "config", "journal", "ingest", "delivery", "security",
                        "audit")
                // the audit chain, retention and the access report work on the journal's tables; their
                // configuration errors are the mapping package's ConfigurationException
                .whereLayer("audit").mayOnlyAccessLayers("mapping", "journal")
                .whereLayer("retention").mayOnlyAccessLayers("mapping", "config", "journal")
                .whereLayer("report").mayOnlyAccessLayers("journal")
                .whereLayer("cli").mayOnlyAccessLayers("hl7", "mapping", "safety", "config", "journal", "ingest", "delivery", "security", "audit")
                // the application class in the root package is the composition root: it may use any layer

                .whereLayer("journal").mayOnlyBeAccessedByLayers("ingest", "delivery", "security", "admin", "health",
                        "audit", "retention", "report", "cli")
                .whereLayer("audit").mayOnlyBeAccessedByLayers("admin", "cli")
                .whereLayer("retention").mayNotBeAccessedByAnyLayer()
                .whereLayer("report").mayNotBeAccessedByAnyLayer();
        layers.check(HUB);
    }

    @Test
    void theConsolePagesAreAFrontEndNothingElseUses() {
        // the console (admin.console) sits on top like the API: it reads the admin queries and the
        // security's person (security.ConsoleUser); nothing below it may reach up into its pages
        noClasses().that().resideOutsideOfPackage("org.supplyhub.admin.console..")
                .and().resideOutsideOfPackage("org.supplyhub")
                .should().dependOnClassesThat().resideInAPackage("org.supplyhub.admin.console..")
                .because("the pages are a front end: the API, delivery and security must work without them")
                .check(HUB);
    }

    @Test
    void securityUsesTheJournalOnlyToAudit() {
        noClasses().that().resideInAPackage("org.supplyhub.security..")
                .should().dependOnClassesThat(resideInAPackage("org.supplyhub.journal..")
                        .and(not(belongToAnyOf(AuditLog.class))))
                .because("security decides who may do what; the messages themselves are ingest's and delivery's")
                .check(HUB);
    }

    @Test
    void mappingIsPlainJava() {
        noClasses().that().resideInAnyPackage("org.supplyhub.mapping..", "org.supplyhub.safety..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "org.apache.camel..", "org.springframework.web..", "jakarta.servlet..", "org.springframework.jdbc..")
                .because("profiles are loaded and run by the CLI without Camel, a web server or a database")
                .check(HUB);
    }
}
