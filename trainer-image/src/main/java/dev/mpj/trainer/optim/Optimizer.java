package dev.mpj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.mpj.api.TrainingSpec;
import java.util.List;

/**
 * An update rule written as NDArray operations on the FP32 master weights, with FP32 state that the
 * trainer owns (and a checkpoint can save): no DJL optimizer, no hidden state.
 */
public interface Optimizer {

  /**
   * Updates {@code weights} in place from the unscaled FP32 {@code gradients}; one call per applied
   * step.
   */
  void step(List<NDArray> weights, List<NDArray> gradients);

  /** Updates applied so far (skipped steps are not updates). */
  long updates();

  /** The state arrays, in a fixed order, each named ({@code m/<parameter>}, ...). */
  List<NamedArray> state();

  /** Sets the update count after the state arrays were restored in place. */
  void restoreUpdates(long updates);

  /** A named state array. */
  record NamedArray(String name, NDArray array) {}

  /** The optimizer a job asks for, with its state allocated (zeros) in {@code manager}. */
  static Optimizer of(
      TrainingSpec.Optimizer spec, List<String> names, List<NDArray> weights, NDManager manager) {
    TrainingSpec.Optimizer o = spec != null ? spec : new TrainingSpec.Optimizer();
    return switch (o.type) {
      case ADAM ->
          new Adam(
              o.learningRate, o.beta1, o.beta2, o.epsilon, o.weightDecay, names, weights, manager);
      case SGD -> new Sgd(o.learningRate, o.momentum, o.weightDecay, names, weights, manager);
    };
  }
}
