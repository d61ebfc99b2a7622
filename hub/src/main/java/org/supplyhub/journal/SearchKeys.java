package org.supplyhub.journal;

/**
 * Keyed hashes of the values the journal is searched by (patient identifier, account), so the search
 * columns and the audit trail never hold them in clear. The same value always gives the same key
 * under the same search key; without the search key the hash cannot be reversed by guessing MRNs.
 */
public interface SearchKeys {

    /** The key of a patient identifier or account as received (trimmed); null for null or blank. */
    String of(String value);
}
