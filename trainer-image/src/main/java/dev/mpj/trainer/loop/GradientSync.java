package dev.mpj.trainer.loop;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * Where replicas meet once per optimizer step. Called after backward with the working gradients as
 * backward left them (FP16 and scaled in fp16-mixed, FP32 in fp32) and this replica's overflow flag.
 * A multi-replica implementation averages the gradients across replicas in place (reducing in FP32)
 * and returns whether any replica overflowed, so that all replicas skip the same steps and keep the
 * same loss scale. The loss each replica backpropagates is already weighted for that average (see
 * {@link TrainingSession}).
 */
public interface GradientSync {

  /** Averages {@code gradients} in place across replicas; returns the global overflow flag. */
  boolean reduce(List<NDArray> gradients, boolean localOverflow);

  /** One process: nothing to average, the local flag is the global one. */
  GradientSync SINGLE_PROCESS = (gradients, localOverflow) -> localOverflow;
}
