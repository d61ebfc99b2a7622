package org.supplyhub.config;

import java.util.Collection;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The configuration the hub runs on now. Readers take the current {@link ConfigSnapshot} once per
 * message (or per poll) and keep the definition they got: a message in flight finishes on the set it
 * started with, while live reload {@link #swap swaps} the whole snapshot in one step.
 * The lookups below read the current snapshot.
 */
public final class RunningConfig {

    private final AtomicReference<ConfigSnapshot> current;

    public RunningConfig(ConfigSnapshot initial) {
        current = new AtomicReference<>(Objects.requireNonNull(initial));
    }

    public ConfigSnapshot current() {
        return current.get();
    }

    public InterfaceCatalog catalog() {
        return current.get().catalog();
    }

    /** Replaces the running set; returns the one it replaced. */
    public ConfigSnapshot swap(ConfigSnapshot next) {
        return current.getAndSet(Objects.requireNonNull(next));
    }

    public Optional<InterfaceDefinition> find(String interfaceId) {
        return catalog().find(interfaceId);
    }

    public InterfaceDefinition get(String interfaceId) {
        return catalog().get(interfaceId);
    }

    public Collection<InterfaceDefinition> all() {
        return catalog().all();
    }

    public Optional<DestinationDefinition> findDestination(String name) {
        return catalog().destinations().stream().filter(d -> d.name().equals(name)).findFirst();
    }

    public DestinationDefinition destination(String name) {
        return catalog().destination(name);
    }

    public Collection<DestinationDefinition> destinations() {
        return catalog().destinations();
    }
}
