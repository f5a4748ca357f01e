package dev.mpj.trainer.loop;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Where replicas meet once per optimizer step. Called after backward with the working gradients as
 * backward left them (FP16 and scaled in fp16-mixed, FP32 in fp32) and this replica's overflow
 * flag. Each sample's loss is weighted by {@code 1 / globalBatch} (see {@link TrainingSession}), so
 * a replica's gradient is its share of the gradient of the mean loss over the global batch: a
 * multi-replica implementation sums the gradients across replicas in place (reducing in FP32) and
 * returns whether any replica overflowed, so that all replicas skip the same steps and keep the
 * same loss scale.
 */
public interface GradientSync {

  /** Sums {@code gradients} in place across replicas; returns the global overflow flag. */
  boolean reduce(List<NDArray> gradients, boolean localOverflow);

  /**
   * The loss of the whole global batch, from this replica's share of it (the same on every
   * replica).
   */
  default double totalLoss(double localLoss) {
    return localLoss;
  }

  /** One process: nothing to sum, the local flag is the global one. */
  GradientSync SINGLE_PROCESS = (gradients, localOverflow) -> localOverflow;
}
