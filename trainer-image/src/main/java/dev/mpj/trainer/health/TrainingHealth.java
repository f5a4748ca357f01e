package dev.mpj.trainer.health;

import dev.mpj.api.LossScalingSpec;
import dev.mpj.api.Precision;
import dev.mpj.api.TrainingHealthSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * Whether mixed precision is failing the run, judged over the last {@code windowSteps} step
 * attempts: an overflow while a dynamic loss scale was already at {@code minScale} (it cannot back
 * off further), more skipped steps than {@code maxSkippedFraction} of a full window, a non-finite
 * FP32 loss, or FP16 gradients flushed to zero (a whole parameter's working gradient zero on more
 * than half of a full window's applied steps: the gradients are below FP16's range, as with a
 * static scale of 1). A pure function of the steps recorded; the window starts again on a resume.
 */
public final class TrainingHealth {

  /** Why a run is not healthy, as the TrainingHealthy condition's reason. */
  public enum Reason {
    LOSS_SCALE_AT_MINIMUM("LossScaleAtMinimum"),
    SKIPPED_STEPS_HIGH("SkippedStepsHigh"),
    NON_FINITE_LOSS("NonFiniteLoss"),
    GRADIENTS_UNDERFLOW("GradientsUnderflow");

    private final String value;

    Reason(String value) {
      this.value = value;
    }

    public String value() {
      return value;
    }
  }

  /**
   * The health after the last recorded step.
   *
   * @param stepsInWindow step attempts the window holds (up to windowSteps)
   */
  public record Assessment(
      long step,
      List<Reason> reasons,
      String message,
      int windowSteps,
      int stepsInWindow,
      int skippedStepsInWindow,
      boolean lossScaleAtMinimum) {
    public boolean healthy() {
      return reasons.isEmpty();
    }

    /** Skipped steps over the steps in the window (0 before the first step). */
    public double skippedFraction() {
      return stepsInWindow == 0 ? 0 : (double) skippedStepsInWindow / stepsInWindow;
    }

    public List<String> reasonNames() {
      return reasons.stream().map(Reason::value).toList();
    }
  }

  private static final int SKIPPED = 1;
  private static final int OVERFLOW_AT_MINIMUM = 2;
  private static final int NON_FINITE_LOSS = 4;
  private static final int UNDERFLOW = 8;

  private final int windowSteps;
  private final double maxSkippedFraction;
  private final boolean dynamicScale;
  private final double minScale;
  private final boolean mixed;
  private final int[] window;
  private int recorded;
  private long step;
  private long nonFiniteLossSteps;
  private long underflowSteps;

  public TrainingHealth(
      int windowSteps,
      double maxSkippedFraction,
      boolean mixed,
      boolean dynamicScale,
      double minScale) {
    if (windowSteps < 1) {
      throw new IllegalArgumentException("health.windowSteps must be at least 1: " + windowSteps);
    }
    this.windowSteps = windowSteps;
    this.maxSkippedFraction = maxSkippedFraction;
    this.mixed = mixed;
    this.dynamicScale = dynamicScale;
    this.minScale = minScale;
    this.window = new int[windowSteps];
  }

  /** The health a job's spec asks for (its health and lossScaling sections, defaults if unset). */
  public static TrainingHealth of(
      Precision precision, TrainingHealthSpec health, LossScalingSpec lossScaling) {
    TrainingHealthSpec h = health != null ? health : new TrainingHealthSpec();
    LossScalingSpec s = lossScaling != null ? lossScaling : new LossScalingSpec();
    boolean mixed = precision == Precision.FP16_MIXED;
    return new TrainingHealth(
        h.windowSteps,
        h.maxSkippedFraction,
        mixed,
        mixed && s.mode != LossScalingSpec.Mode.STATIC,
        s.minScale);
  }

  /**
   * One step attempt.
   *
   * @param lossScale the scale the step used
   * @param flushedGradients whether some parameter's working gradient was entirely zero (only
   *     meaningful for an applied fp16-mixed step)
   */
  public synchronized void record(
      long step, double loss, double lossScale, boolean skipped, boolean flushedGradients) {
    int flags = 0;
    if (skipped) {
      flags |= SKIPPED;
      if (dynamicScale && lossScale <= minScale) {
        flags |= OVERFLOW_AT_MINIMUM;
      }
    }
    if (!Double.isFinite(loss)) {
      flags |= NON_FINITE_LOSS;
      nonFiniteLossSteps++;
    }
    if (mixed && !skipped && flushedGradients) {
      flags |= UNDERFLOW;
      underflowSteps++;
    }
    window[recorded % windowSteps] = flags;
    recorded++;
    this.step = step;
  }

  /** Step attempts with a non-finite FP32 loss, in this process. */
  public synchronized long nonFiniteLossSteps() {
    return nonFiniteLossSteps;
  }

  /** Applied fp16-mixed steps with a parameter's gradient flushed to zero, in this process. */
  public synchronized long underflowSteps() {
    return underflowSteps;
  }

  public synchronized Assessment assessment() {
    int n = Math.min(recorded, windowSteps);
    int skipped = 0;
    int atMinimum = 0;
    int nonFinite = 0;
    int underflow = 0;
    for (int i = 0; i < n; i++) {
      int f = window[i];
      skipped += (f & SKIPPED) != 0 ? 1 : 0;
      atMinimum += (f & OVERFLOW_AT_MINIMUM) != 0 ? 1 : 0;
      nonFinite += (f & NON_FINITE_LOSS) != 0 ? 1 : 0;
      underflow += (f & UNDERFLOW) != 0 ? 1 : 0;
    }
    boolean full = n == windowSteps;
    List<Reason> reasons = new ArrayList<>();
    List<String> words = new ArrayList<>();
    if (atMinimum > 0) {
      reasons.add(Reason.LOSS_SCALE_AT_MINIMUM);
      words.add(
          atMinimum
              + " overflow(s) at the minimum loss scale "
              + minScale
              + " in the last "
              + n
              + " steps: the scale cannot back off further");
    }
    if (full && skipped > maxSkippedFraction * windowSteps) {
      reasons.add(Reason.SKIPPED_STEPS_HIGH);
      words.add(
          skipped
              + " of the last "
              + n
              + " steps skipped for inf/NaN gradients (at most "
              + maxSkippedFraction
              + " allowed)");
    }
    if (nonFinite > 0) {
      reasons.add(Reason.NON_FINITE_LOSS);
      words.add(nonFinite + " of the last " + n + " steps had a non-finite FP32 loss");
    }
    int applied = n - skipped;
    if (full && applied > 0 && underflow * 2 > applied) {
      reasons.add(Reason.GRADIENTS_UNDERFLOW);
      words.add(
          "on "
              + underflow
              + " of the last "
              + applied
              + " applied steps a parameter's FP16 gradient was all zero: gradients below FP16's"
              + " range (raise the loss scale, or train in FP32)");
    }
    String message =
        reasons.isEmpty()
            ? (full ? "healthy over the last " : "healthy so far, ") + n + " steps"
            : String.join("; ", words);
    return new Assessment(
        step, List.copyOf(reasons), message, windowSteps, n, skipped, atMinimum > 0);
  }
}
