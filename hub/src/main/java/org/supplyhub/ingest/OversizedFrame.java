package org.supplyhub.ingest;

/**
 * A frame longer than the interface allows. Only its head is kept (to read MSH for the NACK); the
 * rest was discarded as it arrived, so a huge frame never sits in memory.
 */
public record OversizedFrame(byte[] head, long length, int limit) { }
