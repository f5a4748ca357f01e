package dev.mpj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import dev.mpj.api.TrainingSpec;
import java.util.List;

/**
 * An update rule on the FP32 master weights, with FP32 state that the trainer owns (and a
 * checkpoint can save): no DJL optimizer, no hidden state. It updates weights and state in place,
 * one {@link Slices piece} at a time, and closes every temporary of a piece before the next one, so
 * that the update holds a few pieces' worth of temporaries whatever the model's size.
 */
public interface Optimizer {

  /**
   * Updates {@code weights} in place, one call per applied step: one array per {@link
   * ParameterGroups group} the optimizer was made with (a flat group's buffer, or a parameter of
   * its own), and {@code gradients} likewise ({@link ParameterGroups#gather}). {@code gradients}
   * are as backward left them (working precision, FP16 in fp16-mixed, times the loss scale); times
   * {@code gradientFactor} (1/scale, times the clipping factor) they are the FP32 gradients to
   * apply. Each piece's FP32 gradient is made when the piece is updated and closed right after it.
   * The gradients are not changed.
   */
  void step(List<NDArray> weights, List<NDArray> gradients, float gradientFactor);

  /** {@link #step(List, List, float)} with FP32 gradients applied as they are. */
  default void step(List<NDArray> weights, List<NDArray> gradients) {
    step(weights, gradients, 1f);
  }

  /** Updates applied so far (skipped steps are not updates). */
  long updates();

  /** The state arrays, in a fixed order, each named ({@code m/<parameter>}, ...). */
  List<NamedArray> state();

  /**
   * Sets the update count after the state arrays were restored; called after every restore of the
   * state arrays: it puts the state of grouped parameters that the restore gave memory of their own
   * back into their group's buffer ({@link ParameterGroups#reattach}).
   */
  void restoreUpdates(long updates);

  /** A named state array. */
  record NamedArray(String name, NDArray array) {}

  /**
   * The optimizer a job asks for, with its state allocated (zeros) in {@code manager}, each
   * parameter a group of its own.
   */
  static Optimizer of(
      TrainingSpec.Optimizer spec, List<String> names, List<NDArray> weights, NDManager manager) {
    return of(
        spec,
        names,
        weights,
        ParameterGroups.separate(weights.stream().mapToLong(NDArray::size).toArray()),
        manager);
  }

  /**
   * The optimizer a job asks for over the parameters {@code weights} (one array per parameter,
   * named by {@code names}) in {@code groups}: a flat group's state is one flat buffer, and {@link
   * #state()} names each parameter's view of it.
   */
  static Optimizer of(
      TrainingSpec.Optimizer spec,
      List<String> names,
      List<NDArray> weights,
      ParameterGroups groups,
      NDManager manager) {
    TrainingSpec.Optimizer o = spec != null ? spec : new TrainingSpec.Optimizer();
    GroupedState state = new GroupedState(weights, groups, manager);
    return switch (o.type) {
      case ADAM ->
          new Adam(o.learningRate, o.beta1, o.beta2, o.epsilon, o.weightDecay, names, state);
      case SGD -> new Sgd(o.learningRate, o.momentum, o.weightDecay, names, state);
    };
  }

  /**
   * The FP32 gradient of one piece: {@code piece} itself where it is FP32 and {@code factor} is 1
   * (read, never written), else a new array the caller closes ({@code piece} is left open).
   */
  static NDArray fp32Gradient(NDArray piece, float factor) {
    if (piece.getDataType() != DataType.FLOAT32) {
      NDArray g = piece.toType(DataType.FLOAT32, false);
      return factor == 1f ? g : g.muli(factor);
    }
    return factor == 1f ? piece : piece.mul(factor);
  }
}
