package dev.mpj.trainer.amp;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import dev.mpj.api.LossScalingSpec;
import dev.mpj.trainer.optim.Slices;
import java.util.Arrays;
import java.util.List;

/**
 * The loss scale and its update rule, with the semantics of PyTorch's {@code GradScaler}: on an
 * overflow the step is skipped, the scale backs off (never below {@code minScale}) and the growth
 * tracker resets; after {@code growthInterval} clean steps in a row the scale grows, unless growing
 * would make it infinite. A static scaler never changes. Its state ({@link #scale()}, {@link
 * #growthTracker()}) is what a checkpoint saves and {@link #restore} puts back.
 */
public final class LossScaler {
  private final boolean dynamic;
  private final double growthFactor;
  private final double backoffFactor;
  private final int growthInterval;
  private final double minScale;
  private double scale;
  private int growthTracker;

  public LossScaler(
      boolean dynamic,
      double initialScale,
      double growthFactor,
      double backoffFactor,
      int growthInterval,
      double minScale) {
    this.dynamic = dynamic;
    this.scale = initialScale;
    this.growthFactor = growthFactor;
    this.backoffFactor = backoffFactor;
    this.growthInterval = growthInterval;
    this.minScale = minScale;
  }

  /** The scaler a job asks for: its lossScaling section, GradScaler's defaults where unset. */
  public static LossScaler of(LossScalingSpec spec) {
    LossScalingSpec s = spec != null ? spec : new LossScalingSpec();
    return new LossScaler(
        s.mode != LossScalingSpec.Mode.STATIC,
        s.initialScale,
        s.growthFactor,
        s.backoffFactor,
        s.growthInterval,
        s.minScale);
  }

  /** Scale 1, never changing: FP32 training goes through the same loop with this. */
  public static LossScaler none() {
    return new LossScaler(false, 1.0, 2.0, 0.5, Integer.MAX_VALUE, 1.0);
  }

  /** The scale to multiply this step's loss by. */
  public double scale() {
    return scale;
  }

  /** Clean steps since the last overflow or growth. */
  public int growthTracker() {
    return growthTracker;
  }

  /**
   * GradScaler's {@code unscale_} for the master-weights recipe, in one pass over the gradients
   * with one read-back: the L2 norm of every {@link Slices piece} of every gradient (an FP16 piece
   * through an FP32 copy of that piece alone, closed at once), read back together; the global norm
   * from them, divided by the scale. An inf or NaN element makes its piece's norm inf or NaN, so
   * the same read-back is the overflow check. The gradients are not changed: FP16 cannot hold the
   * unscaled values, so the update unscales each piece as it makes its FP32 copy ({@link
   * UnscaledGradients#inverseScale}).
   *
   * <p>Also non-finite: an unscaled norm beyond FP32's range (only a scale below 1 can make one
   * from finite FP16 gradients), where the unscaled FP32 gradients could hold inf.
   */
  public UnscaledGradients unscale(List<NDArray> gradients) {
    return unscale(gradients, List.of());
  }

  /**
   * {@link #unscale(List)}, reading {@code alongside} (FP32 scalars, such as the step's losses) in
   * the same read-back: their values are {@link UnscaledGradients#alongside}, in order.
   */
  public UnscaledGradients unscale(List<NDArray> gradients, List<NDArray> alongside) {
    float[] read;
    try (NDList norms = new NDList()) {
      for (NDArray gradient : gradients) {
        Slices.forEachPiece(Slices.ELEMENTS, piece -> norms.add(norm(piece[0])), gradient);
      }
      int pieces = norms.size();
      NDList all = new NDList(norms);
      all.addAll(alongside);
      try (NDArray stacked = NDArrays.stack(all)) {
        read = stacked.toFloatArray();
      }
      float[] values = Arrays.copyOfRange(read, pieces, read.length);
      read = Arrays.copyOf(read, pieces);
      return unscaled(gradients, read, values);
    }
  }

  private UnscaledGradients unscaled(List<NDArray> gradients, float[] norms, float[] alongside) {
    double sumOfSquares = 0;
    for (float norm : norms) {
      sumOfSquares += (double) norm * norm;
    }
    double inverse = 1.0 / scale;
    double norm = Math.sqrt(sumOfSquares) * inverse;
    boolean nonFinite =
        !Double.isFinite(sumOfSquares)
            || !Float.isFinite((float) norm)
            || !Float.isFinite((float) inverse);
    return new UnscaledGradients(gradients, inverse, norm, nonFinite, alongside);
  }

  /** The L2 norm of one piece, in FP32. */
  private static NDArray norm(NDArray piece) {
    if (piece.getDataType() == DataType.FLOAT32) {
      return piece.norm();
    }
    try (NDArray fp32 = piece.toType(DataType.FLOAT32, false)) {
      return fp32.norm();
    }
  }

  /** Applies the outcome of one optimizer step: whether any gradient was inf or NaN. */
  public void update(boolean overflow) {
    if (!dynamic) {
      return;
    }
    if (overflow) {
      scale = Math.max((float) (scale * backoffFactor), minScale);
      growthTracker = 0;
      return;
    }
    growthTracker++;
    if (growthTracker == growthInterval) {
      // The scale lives in FP32, as GradScaler's does: growth stops where FP32 would overflow.
      float grown = (float) (scale * growthFactor);
      if (Float.isFinite(grown)) {
        scale = grown;
      }
      growthTracker = 0;
    }
  }

  /** Puts back the state saved in a checkpoint. */
  public void restore(double savedScale, int savedGrowthTracker) {
    this.scale = savedScale;
    this.growthTracker = savedGrowthTracker;
  }
}
