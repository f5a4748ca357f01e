package dev.mpj.api.parity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.mpj.api.ParityPoint;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.ReferenceParityStatus;
import org.junit.jupiter.api.Test;

class ReferenceComparisonTest {
  private static final ReferenceComparison.Thresholds T =
      new ReferenceComparison.Thresholds(1.0, 0.05);

  @Test
  void closeRunsAreWithinBounds() {
    ReferenceComparison.Gaps g = ReferenceComparison.compare(1.0, 0.80, 1.2, 1.02, 0.795, 1.19, T);
    assertThat(g.withinBounds()).isTrue();
    assertThat(g.accuracyDropPoints()).isCloseTo(0.5, within(1e-9));
    assertThat(g.validationLossGap()).isCloseTo(0.02, within(1e-9));
    assertThat(g.trainingLossGap()).isCloseTo(0.01 / 1.2, within(1e-9));
  }

  @Test
  void eachThresholdIsNamedWhenExceeded() {
    ReferenceComparison.Gaps g = ReferenceComparison.compare(1.0, 0.80, 1.2, 1.5, 0.70, 2.0, T);
    assertThat(g.withinBounds()).isFalse();
    assertThat(g.exceeded())
        .containsExactly(
            "maxAccuracyDrop",
            "maxRelativeLossGap (validation loss)",
            "maxRelativeLossGap (training loss)");
    assertThat(g.accuracyDropPoints()).isCloseTo(10.0, within(1e-9));
  }

  @Test
  void aBetterCandidateIsNotADropButALossGapBothWaysCounts() {
    ReferenceComparison.Gaps g = ReferenceComparison.compare(1.0, 0.80, 1.2, 0.5, 0.90, 1.2, T);
    assertThat(g.accuracyDropPoints()).isNegative();
    assertThat(g.exceeded()).containsExactly("maxRelativeLossGap (validation loss)");
  }

  @Test
  void aNonFiniteLossIsNeverWithinBoundsAndRegressionHasNoAccuracy() {
    ReferenceComparison.Gaps g =
        ReferenceComparison.compare(1.0, null, 1.2, Double.NaN, null, 1.2, T);
    assertThat(g.accuracyDropPoints()).isNull();
    assertThat(g.validationLossGap()).isNaN();
    assertThat(g.exceeded()).containsExactly("maxRelativeLossGap (validation loss)");
  }

  @Test
  void theStatusCarriesBothRunsTheGapsAndTheVerdictInWords() {
    ParitySpec.Reference spec = new ParitySpec.Reference();
    spec.steps = 40;
    ParityPoint ref = point("fp32", 1.0, 0.80);
    ParityPoint cand = point("fp16-mixed", 1.0, 0.78);
    ReferenceParityStatus s = ReferenceComparison.status(ref, cand, spec);
    assertThat(s.phase).isEqualTo("Compared");
    assertThat(s.reference).isSameAs(ref);
    assertThat(s.candidate).isSameAs(cand);
    assertThat(s.withinBounds).isFalse();
    assertThat(s.exceeded).containsExactly("maxAccuracyDrop");
    assertThat(s.message)
        .contains("80.00% (fp32 reference) vs 78.00% (fp16-mixed)", "drop 2.00 points (max 1.00)")
        .endsWith("exceeded maxAccuracyDrop (action warn)");
  }

  private static ParityPoint point(String precision, double loss, double accuracy) {
    ParityPoint p = new ParityPoint();
    p.precision = precision;
    p.step = 40L;
    p.validationLoss = loss;
    p.validationAccuracy = accuracy;
    p.trainingLoss = loss;
    return p;
  }
}
