package dev.mpj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;

/**
 * Adam with decoupled weight decay, the same arithmetic as PyTorch's {@code AdamW}: w *= 1 - lr*wd;
 * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps).
 * With wd = 0 it is plain Adam. It runs as in-place operations on each {@link Slices piece} of the
 * weights and state (not DJL's fused {@code adamUpdate}, which runs the epsilon-hat form and holds
 * a copy of the whole gradient and several parameter-sized temporaries at once).
 */
final class Adam implements Optimizer {
  private final double learningRate;
  private final double beta1;
  private final double beta2;
  private final double epsilon;
  private final double weightDecay;
  private final List<NDArray> m = new ArrayList<>();
  private final List<NDArray> v = new ArrayList<>();
  private final List<NamedArray> state = new ArrayList<>();
  private long updates;

  Adam(
      double learningRate,
      double beta1,
      double beta2,
      double epsilon,
      double weightDecay,
      List<String> names,
      List<NDArray> weights,
      NDManager manager) {
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.weightDecay = weightDecay;
    for (int i = 0; i < weights.size(); i++) {
      NDArray first = manager.zeros(weights.get(i).getShape(), DataType.FLOAT32);
      NDArray second = manager.zeros(weights.get(i).getShape(), DataType.FLOAT32);
      m.add(first);
      v.add(second);
      state.add(new NamedArray("m/" + names.get(i), first));
      state.add(new NamedArray("v/" + names.get(i), second));
    }
  }

  @Override
  public void step(List<NDArray> weights, List<NDArray> gradients, float gradientFactor) {
    updates++;
    double correction1 = 1 - Math.pow(beta1, updates);
    double sqrtCorrection2 = Math.sqrt(1 - Math.pow(beta2, updates));
    float stepSize = (float) (learningRate / correction1);
    for (int i = 0; i < weights.size(); i++) {
      for (int piece = 0; piece < Slices.count(weights.get(i)); piece++) {
        try (NDArray w = Slices.view(weights.get(i), piece);
            NDArray first = Slices.view(m.get(i), piece);
            NDArray second = Slices.view(v.get(i), piece)) {
          update(
              w,
              first,
              second,
              Slices.view(gradients.get(i), piece),
              gradientFactor,
              sqrtCorrection2,
              stepSize);
        }
      }
    }
  }

  /**
   * One piece, in place, at most two temporaries of the piece's size alive at once; the same
   * operations in the same order as {@code w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)}
   * written with new arrays, so the same bits.
   */
  private void update(
      NDArray w,
      NDArray first,
      NDArray second,
      NDArray gradientView,
      float gradientFactor,
      double sqrtCorrection2,
      float stepSize) {
    if (weightDecay > 0) {
      w.muli(1 - learningRate * weightDecay);
    }
    try (NDArray g = Optimizer.fp32Gradient(gradientView, gradientFactor)) {
      try (NDArray share = g.mul(1 - beta1)) {
        first.muli(beta1).addi(share);
      }
      try (NDArray share = g.square()) {
        second.muli(beta2).addi(share.muli(1 - beta2));
      }
    }
    try (NDArray denominator = second.sqrt()) {
      denominator.divi(sqrtCorrection2).addi(epsilon);
      try (NDArray change = first.div(denominator)) {
        w.subi(change.muli(stepSize));
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
    this.updates = updates;
  }
}
