package dev.mpj.local;

import java.time.Duration;

/**
 * {@code --evict-at STEP[:REPLICAS]}: the job waits in a queue of {@link LocalKueue}, which admits
 * it, evicts it (as Kueue's preemption does) once rank 0 reports that step, holds it queued for
 * {@code hold}, and admits it again with {@code replicas} pods (partial admission), or with the
 * fewest its Workload accepts when none are given.
 *
 * @param replicas the re-admitted count, or null: the Workload's minCount (its count if none)
 */
public record EvictionInjection(long step, Integer replicas, Duration hold) {
  public static final Duration DEFAULT_HOLD = Duration.ofSeconds(3);

  public static EvictionInjection parse(String value) {
    String[] parts = value == null ? new String[0] : value.split(":", -1);
    if (parts.length < 1 || parts.length > 2 || parts[0].isBlank()) {
      throw new IllegalArgumentException(
          "--evict-at must be STEP or STEP:REPLICAS, e.g. 40:1 (got " + value + ")");
    }
    try {
      long step = Long.parseLong(parts[0].trim());
      Integer replicas = parts.length == 2 ? Integer.valueOf(parts[1].trim()) : null;
      if (step < 1 || (replicas != null && replicas < 1)) {
        throw new IllegalArgumentException(
            "--evict-at needs STEP >= 1 and REPLICAS >= 1 (got " + value + ")");
      }
      return new EvictionInjection(step, replicas, DEFAULT_HOLD);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "--evict-at must be STEP or STEP:REPLICAS with whole numbers (got " + value + ")");
    }
  }
}
