package org.supplyhub.safety;

import java.time.LocalDate;

/** One recall of the hospital's recall list: its number, FDA class, date and text. */
public record Recall(String number, RecallClass recallClass, LocalDate date, String text) {

    /** FDA recall classes: I (serious harm or death likely) to III (harm unlikely). */
    public enum RecallClass { I, II, III }
}
