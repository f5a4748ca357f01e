package dev.mpj.api.parity;

import dev.mpj.api.ParityPoint;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.ReferenceParityStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Reference parity as a pure function: a candidate run's figures (validation loss and accuracy,
 * mean training loss over a window) against an FP32 reference's at the same step. Used by {@code
 * mpj-trainer compare} on two output folders and by the trainer of a job with
 * spec.parity.reference, whose verdict the operator records.
 */
public final class ReferenceComparison {

  /** Threshold names, as {@link Gaps#exceeded()} lists them. */
  public static final String MAX_ACCURACY_DROP = "maxAccuracyDrop";

  public static final String VALIDATION_LOSS = "maxRelativeLossGap (validation loss)";
  public static final String TRAINING_LOSS = "maxRelativeLossGap (training loss)";

  /**
   * @param maxAccuracyDrop percentage points the candidate's validation accuracy may lose
   * @param maxRelativeLossGap largest relative gap of the validation loss and of the mean training
   *     loss
   */
  public record Thresholds(double maxAccuracyDrop, double maxRelativeLossGap) {
    public static Thresholds of(ParitySpec.Reference r) {
      return new Thresholds(r.maxAccuracyDrop, r.maxRelativeLossGap);
    }
  }

  /** The gaps and the thresholds they exceed (none: within bounds). */
  public record Gaps(
      Double accuracyDropPoints,
      double validationLossGap,
      double trainingLossGap,
      List<String> exceeded) {
    public boolean withinBounds() {
      return exceeded.isEmpty();
    }
  }

  private ReferenceComparison() {}

  /**
   * The gaps of a candidate against a reference. A loss that is not finite gives a NaN gap, which
   * is never within bounds; the accuracy drop is null when either run has no accuracy.
   */
  public static Gaps compare(
      double referenceValidationLoss,
      Double referenceAccuracy,
      double referenceTrainingLoss,
      double candidateValidationLoss,
      Double candidateAccuracy,
      double candidateTrainingLoss,
      Thresholds t) {
    double validationGap = relativeGap(candidateValidationLoss, referenceValidationLoss);
    double trainingGap = relativeGap(candidateTrainingLoss, referenceTrainingLoss);
    Double drop =
        referenceAccuracy == null || candidateAccuracy == null
            ? null
            : (referenceAccuracy - candidateAccuracy) * 100;
    List<String> exceeded = new ArrayList<>();
    if (drop != null && !(drop <= t.maxAccuracyDrop())) {
      exceeded.add(MAX_ACCURACY_DROP);
    }
    if (!(validationGap <= t.maxRelativeLossGap())) {
      exceeded.add(VALIDATION_LOSS);
    }
    if (!(trainingGap <= t.maxRelativeLossGap())) {
      exceeded.add(TRAINING_LOSS);
    }
    return new Gaps(drop, validationGap, trainingGap, List.copyOf(exceeded));
  }

  /** The same, from two runs' points. */
  public static Gaps compare(ParityPoint reference, ParityPoint candidate, Thresholds t) {
    return compare(
        orNaN(reference.validationLoss),
        reference.validationAccuracy,
        orNaN(reference.trainingLoss),
        orNaN(candidate.validationLoss),
        candidate.validationAccuracy,
        orNaN(candidate.trainingLoss),
        t);
  }

  /** The status of a comparison: both points, the gaps, the verdict and a message saying it. */
  public static ReferenceParityStatus status(
      ParityPoint reference, ParityPoint candidate, ParitySpec.Reference spec) {
    Gaps g = compare(reference, candidate, Thresholds.of(spec));
    ReferenceParityStatus s = new ReferenceParityStatus();
    s.phase = ReferenceParityStatus.COMPARED;
    s.step = candidate.step;
    s.reference = reference;
    s.candidate = candidate;
    s.accuracyDropPoints = finite(g.accuracyDropPoints());
    s.validationLossGap = finite(g.validationLossGap());
    s.trainingLossGap = finite(g.trainingLossGap());
    s.withinBounds = g.withinBounds();
    s.exceeded = g.exceeded();
    s.message = message(reference, candidate, g, spec);
    return s;
  }

  /** One line: both accuracies (or losses), the gaps and the verdict. */
  public static String message(
      ParityPoint reference, ParityPoint candidate, Gaps g, ParitySpec.Reference spec) {
    StringBuilder b = new StringBuilder("reference parity at step " + candidate.step + ": ");
    if (g.accuracyDropPoints() != null) {
      b.append(
          String.format(
              Locale.ROOT,
              "accuracy %.2f%% (fp32 reference) vs %.2f%% (%s), drop %.2f points (max %.2f); ",
              100 * reference.validationAccuracy,
              100 * candidate.validationAccuracy,
              candidate.precision,
              g.accuracyDropPoints(),
              spec.maxAccuracyDrop));
    }
    b.append(
        String.format(
            Locale.ROOT,
            "validation loss %.4g vs %.4g, gap %.3g; training loss gap %.3g (max %.3g): ",
            orNaN(reference.validationLoss),
            orNaN(candidate.validationLoss),
            g.validationLossGap(),
            g.trainingLossGap(),
            spec.maxRelativeLossGap));
    b.append(
        g.withinBounds()
            ? "within bounds"
            : "exceeded " + String.join(", ", g.exceeded()) + " (action " + action(spec) + ")");
    return b.toString();
  }

  /** |candidate - reference| / |reference|; NaN (never within bounds) when either is not finite. */
  public static double relativeGap(double candidate, double reference) {
    if (!Double.isFinite(candidate) || !Double.isFinite(reference)) {
      return Double.NaN;
    }
    return Math.abs(candidate - reference) / Math.max(Math.abs(reference), 1e-12);
  }

  private static String action(ParitySpec.Reference spec) {
    return spec.action == ParitySpec.Action.FAIL ? "fail" : "warn";
  }

  private static double orNaN(Double d) {
    return d == null ? Double.NaN : d;
  }

  private static Double finite(Double d) {
    return d == null || !Double.isFinite(d) ? null : d;
  }
}
