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

  /**
   * FP32 scalars made from the working gradients right after backward (as {@link #afterBackward}
   * sees them) that this listener wants on the host: the step reads them in its one read-back, with
   * the gradient norms and the losses, and hands their values to {@link #afterReadBack}, in order.
   * They live in the step's scope. None by default.
   */
  default List<NDArray> toReadBack(long step, List<NDArray> gradients) {
    return List.of();
  }

  /** The values of what {@link #toReadBack} returned this step, in its order. */
  default void afterReadBack(long step, float[] values) {}

  /** Once, after the last step. */
  default void onEnd(RunSummary summary) {}
}
