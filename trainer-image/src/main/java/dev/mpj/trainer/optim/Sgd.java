package dev.mpj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
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
  private long updates;

  Sgd(
      double learningRate,
      double momentum,
      double weightDecay,
      List<String> names,
      List<NDArray> weights,
      NDManager manager) {
    this.learningRate = learningRate;
    this.momentum = momentum;
    this.weightDecay = weightDecay;
    if (momentum > 0) {
      for (int i = 0; i < weights.size(); i++) {
        NDArray buffer = manager.zeros(weights.get(i).getShape(), DataType.FLOAT32);
        buffers.add(buffer);
        state.add(new NamedArray("momentum/" + names.get(i), buffer));
      }
    }
  }

  @Override
  public void step(List<NDArray> weights, List<NDArray> gradients, float gradientFactor) {
    for (int i = 0; i < weights.size(); i++) {
      for (int piece = 0; piece < Slices.count(weights.get(i)); piece++) {
        try (NDArray w = Slices.view(weights.get(i), piece);
            NDArray g =
                Optimizer.fp32Gradient(Slices.view(gradients.get(i), piece), gradientFactor)) {
          if (weightDecay > 0) {
            w.muli(1 - learningRate * weightDecay);
          }
          if (momentum > 0) {
            // PyTorch starts the buffer at the first gradient; from zeros, mu*0 + g is the same.
            try (NDArray b = Slices.view(buffers.get(i), piece);
                NDArray change = b.muli(momentum).addi(g).mul(learningRate)) {
              w.subi(change);
            }
          } else {
            try (NDArray change = g.mul(learningRate)) {
              w.subi(change);
            }
          }
        }
      }
    }
    updates++;
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
    this.updates = updates;
  }
}
