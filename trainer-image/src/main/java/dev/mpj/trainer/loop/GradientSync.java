package dev.mpj.trainer.loop;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Where replicas meet once per optimizer step. {@link #reduce} is called after backward with the
 * working gradients as backward left them (FP16 and scaled in fp16-mixed, FP32 in fp32). Each
 * sample's loss is weighted by {@code 1 / globalBatch} (see {@link TrainingSession}), so a
 * replica's gradient is its share of the gradient of the mean loss over the global batch: a
 * multi-replica implementation sums the gradients across replicas in place (reducing in FP32), so
 * that every replica holds the same bytes. Then the loss scaler checks the summed gradients, and
 * {@link #anyOverflow} combines the replicas' findings, so that all replicas skip the same steps
 * and keep the same loss scale. One process: nothing to do, the defaults.
 */
public interface GradientSync {

  /** Sums {@code gradients} in place across replicas. */
  default void reduce(List<NDArray> gradients) {}

  /** Whether any replica found inf/NaN in its (summed) gradients: the global overflow flag. */
  default boolean anyOverflow(boolean localOverflow) {
    return localOverflow;
  }

  /**
   * The loss of the whole global batch, from this replica's share of it (the same on every
   * replica).
   */
  default double totalLoss(double localLoss) {
    return localLoss;
  }

  /** One process: nothing to sum, the local flag is the global one. */
  GradientSync SINGLE_PROCESS = new GradientSync() {};
}
