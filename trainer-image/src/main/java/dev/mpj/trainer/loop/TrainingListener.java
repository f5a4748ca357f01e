package dev.mpj.trainer.loop;

import ai.djl.ndarray.NDArray;
import java.time.Duration;
import java.util.List;

/**
 * Side concerns of the training loop (metrics, summary, progress, checkpoints) hang off it here.
 */
public interface TrainingListener {

  /** After every step attempt, skipped ones included. */
  default void onStep(StepResult step) {}

  /** After one micro-batch was assembled from the data set (its inputs and targets as arrays). */
  default void onDataLoaded(long step, Duration elapsed) {}

  /**
   * With the working gradients right after backward (scaled, working precision), before the
   * overflow check.
   */
  default void afterBackward(long step, List<NDArray> gradients) {}

  /** Once, after the last step. */
  default void onEnd(RunSummary summary) {}
}
