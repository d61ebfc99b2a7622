package org.supplyhub.mapping.structure;

import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/** The nearest of some names to a misspelt one (edit distance), for "did you mean …?". */
final class Names {

    private Names() {
    }

    /** The closest candidate, if it is close enough to be a plausible typo (one edit, or up to a third of a longer name). */
    static Optional<String> nearest(String wrong, Collection<String> candidates) {
        int allowed = Math.max(1, wrong.length() / 3);
        return candidates.stream()
                .filter(c -> !c.equals(wrong))
                .map(c -> new Scored(c, distance(wrong, c)))
                .filter(s -> s.distance <= allowed)
                .min(Comparator.comparingInt(Scored::distance).thenComparing(Scored::name))
                .map(Scored::name);
    }

    private record Scored(String name, int distance) {
    }

    /** Damerau–Levenshtein (optimal string alignment): a swap such as PTR/PRT counts as one edit. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
