package dev.mpj.trainer.health;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import dev.mpj.api.Precision;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.loop.StepResult;
import dev.mpj.trainer.loop.TrainingListener;
import java.util.List;

/**
 * Feeds {@link TrainingHealth} from the training loop: each step's loss, scale and skip, and (in
 * fp16-mixed) whether a parameter's FP16 gradient came out of backward entirely zero. The arrays it
 * makes live in the step's scope.
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
  public void afterBackward(long step, List<NDArray> gradients) {
    if (mixed && !gradients.isEmpty() && anyAllZero(gradients)) {
      flushedAtStep = step;
    }
  }

  @Override
  public void onStep(StepResult s) {
    health.record(s.step(), s.loss(), s.lossScale(), s.overflow(), flushedAtStep == s.step());
  }

  /**
   * Whether any of {@code gradients} is entirely zero, with one read-back: each gradient's largest
   * and smallest element (zero both only where all of it is zero). Reductions with no copy: an
   * {@code abs()} of each gradient would hold a second set of gradients, 2 bytes per parameter in
   * FP16, until the step's scope closes, through the whole update step.
   */
  static boolean anyAllZero(List<NDArray> gradients) {
    NDList extremes = new NDList(2 * gradients.size());
    for (NDArray g : gradients) {
      extremes.add(g.max().toType(DataType.FLOAT32, false).reshape(1));
      extremes.add(g.min().toType(DataType.FLOAT32, false).reshape(1));
    }
    float[] values = NDArrays.concat(extremes).toFloatArray();
    for (int i = 0; i < values.length; i += 2) {
      if (values[i] == 0f && values[i + 1] == 0f) {
        return true;
      }
    }
    return false;
  }
}
