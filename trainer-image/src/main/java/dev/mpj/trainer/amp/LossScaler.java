package dev.mpj.trainer.amp;

import dev.mpj.api.LossScalingSpec;

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
