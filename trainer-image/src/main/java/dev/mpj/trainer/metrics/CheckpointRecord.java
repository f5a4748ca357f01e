package dev.mpj.trainer.metrics;

import java.time.Instant;

/**
 * The newest checkpoint this replica published: what {@code /progress} reports as lastCheckpoint.
 */
public record CheckpointRecord(long step, Instant time, String path) {}
