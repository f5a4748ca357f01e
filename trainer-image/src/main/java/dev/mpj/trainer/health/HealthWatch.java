package dev.mpj.trainer.health;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.mpj.api.Precision;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.loop.StepResult;
import dev.mpj.trainer.loop.TrainingListener;
import java.util.ArrayList;
import java.util.List;

/**
 * Feeds {@link TrainingHealth} from the training loop: each step's loss, scale and skip, and (in
 * fp16-mixed) whether a parameter's FP16 gradient came out of backward entirely zero, from two
 * scalars per gradient that the step reads back with its gradient norms. The arrays it makes live
 * in the step's scope.
 */
public final class HealthWatch implements TrainingListener {
  private final TrainingHealth health;
  private final boolean mixed;
  private long flushedAtStep = -1;

  public HealthWatch(RunConfig config) {
    this.health =
        TrainingHealth.of(config.precision(), config.spec().health, config.spec().lossScaling);
    this.mixed = config.precision() == Precision.FP16_MIXED;
  }

  public TrainingHealth health() {
    return health;
  }

  @Override
  public List<NDArray> toReadBack(long step, List<NDArray> gradients) {
    return mixed ? extremes(gradients) : List.of();
  }

  @Override
  public void afterReadBack(long step, float[] values) {
    if (mixed && anyAllZero(values)) {
      flushedAtStep = step;
    }
  }

  @Override
  public void onStep(StepResult s) {
    health.record(s.step(), s.loss(), s.lossScale(), s.overflow(), flushedAtStep == s.step());
  }

  /**
   * Each gradient's largest and smallest element, as FP32 scalars: both are zero only where all of
   * the gradient is zero. Reductions with no copy: an {@code abs()} of each gradient would hold a
   * second set of gradients, 2 bytes per parameter in FP16, until the step's scope closes, through
   * the whole update step.
   */
  static List<NDArray> extremes(List<NDArray> gradients) {
    List<NDArray> extremes = new ArrayList<>(2 * gradients.size());
    for (NDArray g : gradients) {
      extremes.add(g.max().toType(DataType.FLOAT32, false));
      extremes.add(g.min().toType(DataType.FLOAT32, false));
    }
    return extremes;
  }

  /** Whether the {@link #extremes} read back say that any gradient is entirely zero. */
  static boolean anyAllZero(float[] extremes) {
    for (int i = 0; i + 1 < extremes.length; i += 2) {
      if (extremes[i] == 0f && extremes[i + 1] == 0f) {
        return true;
      }
    }
    return false;
  }
}
