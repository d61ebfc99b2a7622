package org.supplyhub.config;

import org.supplyhub.safety.Recall;
import org.supplyhub.safety.RecallIndex;
import org.supplyhub.safety.recall.RecallList;

import java.util.Optional;
import java.util.stream.Stream;

/**
 * The recall index the implant checks see: {@code mappings/recalls.csv} of the running configuration
 * (replaced by live reload) together with the last good list fetched from {@code hub.safety.recalls.url}.
 * Each lookup reads both as they are now.
 */
public final class CurrentRecalls implements RecallIndex {

    private final RunningConfig running;
    private final RecallFeed feed;

    public CurrentRecalls(RunningConfig running, RecallFeed feed) {
        this.running = running;
        this.feed = feed;
    }

    @Override
    public Optional<Recall> find(String deviceIdentifier, String lot, String serial) {
        RecallList file = running.current().recalls();
        RecallList fetched = feed == null ? RecallList.EMPTY : feed.list();
        return Stream.concat(file.matches(deviceIdentifier, lot, serial), fetched.matches(deviceIdentifier, lot, serial))
                .min(RecallList.MOST_SEVERE);
    }
}
