package dev.mpj.trainer.optim;

import ai.djl.ndarray.NDArray;
import java.util.ArrayList;
import java.util.List;

/**
 * SGD with momentum (PyTorch's rule, no dampening: b = mu b + g; w -= lr b) and decoupled weight
 * decay, as in-place operations on each {@link Slices piece} (one temporary of the piece's size).
 */
final class Sgd implements Optimizer {
  private final double learningRate;
  private final double momentum;
  private final double weightDecay;
  private final List<NDArray> buffers = new ArrayList<>();
  private final List<NamedArray> state = new ArrayList<>();
  private final ParameterGroups groups;
  private List<NDArray> buffersPerParameter = List.of();
  private long updates;

  Sgd(
      double learningRate,
      double momentum,
      double weightDecay,
      List<String> names,
      GroupedState grouped) {
    this.learningRate = learningRate;
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    this.groups = grouped.groups();
    if (momentum > 0) {
      GroupedState.Arrays momenta = grouped.allocate();
      buffers.addAll(momenta.perGroup());
      buffersPerParameter = momenta.perParameter();
      for (int i = 0; i < grouped.parameters(); i++) {
        state.add(new NamedArray("momentum/" + names.get(i), momenta.perParameter().get(i)));
      }
    }
  }

  @Override
  public void step(List<NDArray> weights, List<NDArray> gradients, float gradientFactor) {
    for (int i = 0; i < weights.size(); i++) {
      if (momentum > 0) {
        Slices.forEachPiece(
            Slices.ELEMENTS,
            piece -> update(piece[0], piece[1], piece[2], gradientFactor),
            weights.get(i),
            gradients.get(i),
            buffers.get(i));
      } else {
        Slices.forEachPiece(
            Slices.ELEMENTS,
            piece -> update(piece[0], piece[1], null, gradientFactor),
            weights.get(i),
            gradients.get(i));
      }
    }
    updates++;
  }

  /** One piece, in place: one temporary of its size (two with an FP16 gradient). */
  private void update(NDArray w, NDArray gradient, NDArray buffer, float gradientFactor) {
    NDArray g = Optimizer.fp32Gradient(gradient, gradientFactor);
    try {
      if (weightDecay > 0) {
        w.muli(1 - learningRate * weightDecay);
      }
      if (buffer != null) {
        // PyTorch starts the buffer at the first gradient; from zeros, mu*0 + g is the same.
        try (NDArray change = buffer.muli(momentum).addi(g).mul(learningRate)) {
          w.subi(change);
        }
      } else {
        try (NDArray change = g.mul(learningRate)) {
          w.subi(change);
        }
      }
    } finally {
      if (g != gradient) {
        g.close();
      }
    }
  }

  @Override
  public long updates() {
    return updates;
  }

  @Override
  public List<NamedArray> state() {
    return state;
  }

  @Override
  public void restoreUpdates(long updates) {
    if (momentum > 0) {
      groups.reattach(buffers, buffersPerParameter);
    }
    this.updates = updates;
  }
}
