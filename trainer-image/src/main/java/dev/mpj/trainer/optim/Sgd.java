package dev.mpj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;

/**
 * SGD with momentum (PyTorch's rule, no dampening: b = mu b + g; w -= lr b) and decoupled weight
 * decay.
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
  public void step(List<NDArray> weights, List<NDArray> gradients) {
    for (int i = 0; i < weights.size(); i++) {
      NDArray w = weights.get(i);
      NDArray g = gradients.get(i);
      if (weightDecay > 0) {
        w.muli(1 - learningRate * weightDecay);
      }
      if (momentum > 0) {
        NDArray b = buffers.get(i);
        // PyTorch starts the buffer at the first gradient; from zeros, mu*0 + g is the same.
        b.muli(momentum).addi(g);
        w.subi(b.mul(learningRate));
      } else {
        w.subi(g.mul(learningRate));
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
