package dev.mpj.trainer.checkpoint;

/**
 * When a checkpoint is due: every {@code intervalSteps}, at the last step, and when {@code
 * intervalSeconds} (null: never) have passed since the last checkpoint (or the start).
 */
public record CheckpointSchedule(int intervalSteps, Integer intervalSeconds, long totalSteps) {

  /**
   * Whether the step just finished should be checkpointed, {@code secondsSinceLast} after the
   * previous one.
   */
  public boolean due(long step, double secondsSinceLast) {
    if (step % intervalSteps == 0 || step == totalSteps) {
      return true;
    }
    return intervalSeconds != null && secondsSinceLast >= intervalSeconds;
  }
}
