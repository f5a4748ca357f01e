package dev.mpj.trainer.health;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.LossScalingSpec;
import dev.mpj.api.Precision;
import dev.mpj.api.TrainingHealthSpec;
import dev.mpj.trainer.amp.LossScaler;
import dev.mpj.trainer.health.TrainingHealth.Reason;
import org.junit.jupiter.api.Test;

/** The health rules, fed the steps a GradScaler-like scaler produces. */
class TrainingHealthTest {

  @Test
  void aDynamicRunThatCalibratesItsScaleAndThenOverflowsRarelyStaysHealthy() {
    TrainingHealth health = TrainingHealth.of(Precision.FP16_MIXED, null, new LossScalingSpec());
    LossScaler scaler = LossScaler.of(new LossScalingSpec());
    for (long step = 1; step <= 5000; step++) {
      // Calibration: the first 6 steps overflow (65536 -> 1024); after that one overflow per
      // growth, as when the scale grows past what the gradients allow.
      boolean overflow = step <= 6 || (step > 6 && scaler.growthTracker() == 0 && step % 2000 == 7);
      health.record(step, 0.5, scaler.scale(), overflow, false);
      scaler.update(overflow);
      assertThat(health.assessment().healthy()).as("step %d", step).isTrue();
    }
    assertThat(health.assessment().stepsInWindow()).isEqualTo(100);
    assertThat(health.assessment().message()).isEqualTo("healthy over the last 100 steps");
  }

  @Test
  void anOverflowAtMinScaleIsUnhealthyUntilItLeavesTheWindow() {
    TrainingHealth health = new TrainingHealth(10, 0.5, true, true, 1.0);
    health.record(1, 0.5, 2.0, true, false);
    assertThat(health.assessment().healthy()).as("backing off from 2 to 1 is fine").isTrue();
    health.record(2, 0.5, 1.0, true, false);
    TrainingHealth.Assessment at = health.assessment();
    assertThat(at.reasons()).containsExactly(Reason.LOSS_SCALE_AT_MINIMUM);
    assertThat(at.lossScaleAtMinimum()).isTrue();
    assertThat(at.message()).contains("minimum loss scale 1.0");
    for (long step = 3; step <= 11; step++) {
      health.record(step, 0.5, 1.0, false, false);
    }
    assertThat(health.assessment().healthy()).as("step 2 is still in the window").isFalse();
    health.record(12, 0.5, 1.0, false, false);
    assertThat(health.assessment().healthy()).as("step 2 left the window").isTrue();
  }

  @Test
  void aStaticScaleNeverCountsAsAtItsMinimum() {
    LossScalingSpec fixed = new LossScalingSpec();
    fixed.mode = LossScalingSpec.Mode.STATIC;
    fixed.initialScale = 1;
    TrainingHealth health = TrainingHealth.of(Precision.FP16_MIXED, null, fixed);
    health.record(1, 0.5, 1.0, true, false);
    assertThat(health.assessment().reasons()).isEmpty();
  }

  @Test
  void skippedStepsAboveTheFractionOfAFullWindowAreUnhealthy() {
    TrainingHealthSpec spec = new TrainingHealthSpec();
    spec.windowSteps = 20;
    spec.maxSkippedFraction = 0.1;
    TrainingHealth health = TrainingHealth.of(Precision.FP16_MIXED, spec, new LossScalingSpec());
    for (long step = 1; step <= 19; step++) {
      health.record(step, 0.5, 1024, step % 3 == 0, false);
    }
    assertThat(health.assessment().healthy())
        .as("6 of 19 skipped, but the window is not full yet")
        .isTrue();
    health.record(20, 0.5, 1024, false, false);
    TrainingHealth.Assessment full = health.assessment();
    assertThat(full.reasons()).containsExactly(Reason.SKIPPED_STEPS_HIGH);
    assertThat(full.skippedStepsInWindow()).isEqualTo(6);
    assertThat(full.skippedFraction()).isEqualTo(0.3);
    assertThat(full.message()).contains("6 of the last 20 steps skipped");
  }

  @Test
  void twoSkippedStepsOfTwentyAreWithinATenthButThreeAreNot() {
    TrainingHealth health = new TrainingHealth(20, 0.1, true, true, 1.0);
    for (long step = 1; step <= 20; step++) {
      health.record(step, 0.5, 1024, step <= 2, false);
    }
    assertThat(health.assessment().healthy()).isTrue();
    health.record(21, 0.5, 1024, true, false);
    health.record(22, 0.5, 1024, true, false);
    assertThat(health.assessment().skippedStepsInWindow()).isEqualTo(2);
    health.record(23, 0.5, 1024, true, false);
    assertThat(health.assessment().reasons()).containsExactly(Reason.SKIPPED_STEPS_HIGH);
  }

  @Test
  void aNonFiniteLossIsUnhealthyInFp32Too() {
    TrainingHealth health = TrainingHealth.of(Precision.FP32, null, null);
    health.record(1, 0.7, 1.0, false, false);
    assertThat(health.assessment().healthy()).isTrue();
    health.record(2, Double.NaN, 1.0, false, false);
    assertThat(health.assessment().reasons()).containsExactly(Reason.NON_FINITE_LOSS);
    assertThat(health.nonFiniteLossSteps()).isEqualTo(1);
    health.record(3, Double.POSITIVE_INFINITY, 1.0, false, false);
    assertThat(health.nonFiniteLossSteps()).isEqualTo(2);
  }

  @Test
  void fp16GradientsFlushedToZeroOnMostAppliedStepsOfAFullWindowAreUnhealthy() {
    TrainingHealth health = new TrainingHealth(10, 0.1, true, false, 1.0);
    for (long step = 1; step <= 9; step++) {
      health.record(step, 0.5, 1.0, false, true);
    }
    assertThat(health.assessment().healthy()).as("window not full").isTrue();
    health.record(10, 0.5, 1.0, false, false);
    TrainingHealth.Assessment a = health.assessment();
    assertThat(a.reasons()).containsExactly(Reason.GRADIENTS_UNDERFLOW);
    assertThat(a.message()).contains("on 9 of the last 10 applied steps");
    assertThat(health.underflowSteps()).isEqualTo(9);
  }

  @Test
  void zeroGradientsNowAndThenAndZeroGradientsInFp32AreNotUnderflow() {
    TrainingHealth mixed = new TrainingHealth(10, 0.1, true, true, 1.0);
    TrainingHealth fp32 = new TrainingHealth(10, 0.1, false, false, 1.0);
    for (long step = 1; step <= 10; step++) {
      mixed.record(step, 0.5, 1024, false, step <= 5);
      fp32.record(step, 0.5, 1.0, false, true);
    }
    assertThat(mixed.assessment().healthy()).as("5 of 10 is not more than half").isTrue();
    assertThat(fp32.assessment().healthy()).isTrue();
    assertThat(fp32.underflowSteps()).isZero();
  }
}
