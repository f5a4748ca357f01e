package dev.mpj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import java.util.ArrayList;
import java.util.List;

/**
 * Adam with decoupled weight decay: PyTorch's {@code AdamW} formula, w *= 1 - lr*wd; m = b1 m +
 * (1-b1) g; v = b2 v + (1-b2) g^2; w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps), evaluated
 * by libtorch's fused update (DJL's {@code NDArrayEx.adamUpdate}, one native call per piece). That
 * kernel runs the epsilon-hat form {@code w -= s * m / (sqrt(v) + e)}; with {@code s = lr *
 * sqrt(1-b2^t) / (1-b1^t)} and {@code e = eps * sqrt(1-b2^t)} (numerator and denominator of AdamW's
 * step multiplied by {@code sqrt(1-b2^t)}) it is AdamW's step in exact arithmetic, and differs from
 * it by FP32 roundings only. The decay runs before it, as PyTorch's {@code w *= 1 - lr*wd}. With wd
 * = 0 it is plain Adam. The moments are the trainer's own FP32 arrays, updated in place, so a
 * checkpoint saves them and a resume continues bit for bit.
 *
 * <p>The moments follow the {@link ParameterGroups groups}: a flat group's are one buffer each,
 * updated in one call with the group's concatenated gradient.
 *
 * <p>It runs on {@link Slices#FUSED_ELEMENTS pieces}: the kernel clones its gradient and makes four
 * more temporaries of its input's size, which on a whole large layer would be many bytes per
 * parameter.
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
  private final ParameterGroups groups;
  private final List<NDArray> mPerParameter;
  private final List<NDArray> vPerParameter;
  private long updates;

  Adam(
      double learningRate,
      double beta1,
      double beta2,
      double epsilon,
      double weightDecay,
      List<String> names,
      GroupedState grouped) {
    this.learningRate = learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.weightDecay = weightDecay;
    GroupedState.Arrays first = grouped.allocate();
    GroupedState.Arrays second = grouped.allocate();
    m.addAll(first.perGroup());
    v.addAll(second.perGroup());
    this.groups = grouped.groups();
    this.mPerParameter = first.perParameter();
    this.vPerParameter = second.perParameter();
    for (int i = 0; i < grouped.parameters(); i++) {
      state.add(new NamedArray("m/" + names.get(i), first.perParameter().get(i)));
      state.add(new NamedArray("v/" + names.get(i), second.perParameter().get(i)));
    }
  }

  @Override
  public void step(List<NDArray> weights, List<NDArray> gradients, float gradientFactor) {
    updates++;
    double sqrtCorrection2 = Math.sqrt(1 - Math.pow(beta2, updates));
    float stepSize = (float) (learningRate / (1 - Math.pow(beta1, updates)) * sqrtCorrection2);
    float scaledEpsilon = (float) (epsilon * sqrtCorrection2);
    for (int i = 0; i < weights.size(); i++) {
      Slices.forEachPiece(
          Slices.FUSED_ELEMENTS,
          piece ->
              update(
                  piece[0], piece[1], piece[2], piece[3], gradientFactor, stepSize, scaledEpsilon),
          weights.get(i),
          gradients.get(i),
          m.get(i),
          v.get(i));
    }
  }

  /**
   * One piece, in place. The kernel multiplies its clone of the gradient by {@code gradientFactor}
   * (unless 1) before anything else: the same FP32 gradient as converting and scaling first. An
   * FP16 gradient goes through an FP32 copy of the piece, closed at once.
   */
  private void update(
      NDArray w,
      NDArray gradient,
      NDArray first,
      NDArray second,
      float gradientFactor,
      float stepSize,
      float scaledEpsilon) {
    if (weightDecay > 0) {
      w.muli(1 - learningRate * weightDecay);
    }
    NDArray g =
        gradient.getDataType() == DataType.FLOAT32
            ? gradient
            : gradient.toType(DataType.FLOAT32, false);
    try {
      // DJL clears the gradient of the arrays in its second argument afterwards: the moment has
      // none, so the working gradient stays as backward left it.
      w.getNDArrayInternal()
          .adamUpdate(
              new NDList(w, g, first, second),
              new NDList(first),
              (float) learningRate, // read by the kernel's own decay only, which is off
              stepSize,
              0f,
              gradientFactor,
              -1f, // no clamping
              (float) beta1,
              (float) beta2,
              scaledEpsilon,
              false,
              false);
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
    groups.reattach(m, mPerParameter);
    groups.reattach(v, vPerParameter);
    this.updates = updates;
  }
}
