package org.supplyhub.config;

/**
 * A part of the hub that holds something per interface or destination beyond the catalog (an SSL
 * context, an OAuth2 registration, a lease check, a per-port filter). Live reload asks every
 * participant to check a new set before anything changes, and tells it once the set is running.
 */
public interface ConfigParticipant {

    /** Checks a new set before it replaces the running one; a {@link org.supplyhub.mapping.ConfigurationException} refuses it. */
    default void check(InterfaceCatalog next) {
    }

    /**
     * The new set is the running one; its new routes are about to be created: publish what they
     * resolve when created (e.g. an SSL context in Camel's registry). Nothing of a set is published
     * before this (a set can still be refused). Also called with the previous set when a failed
     * reload puts it back.
     */
    default void publish(InterfaceCatalog next) {
    }

    /** The new set is the running one and its new routes exist; called before they start. */
    default void activate(InterfaceCatalog next) {
    }
}
