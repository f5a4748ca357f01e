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

  /** One read-back: each gradient's largest magnitude, zero only where all of it is zero. */
  private static boolean anyAllZero(List<NDArray> gradients) {
    NDList maxima = new NDList(gradients.size());
    for (NDArray g : gradients) {
      maxima.add(g.abs().max().toType(DataType.FLOAT32, false).reshape(1));
    }
    for (float m : NDArrays.concat(maxima).toFloatArray()) {
      if (m == 0f) {
        return true;
      }
    }
    return false;
  }
}
