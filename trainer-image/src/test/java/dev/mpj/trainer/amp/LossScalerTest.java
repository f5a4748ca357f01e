package dev.mpj.trainer.amp;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.LossScalingSpec;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LossScalerTest {

  /** Scales used by each step for the given overflow flags (true = overflow). */
  private static List<Double> trajectory(LossScaler scaler, boolean... overflows) {
    List<Double> scales = new ArrayList<>();
    for (boolean overflow : overflows) {
      scales.add(scaler.scale());
      scaler.update(overflow);
    }
    scales.add(scaler.scale());
    return scales;
  }

  @Test
  void followsGradScalerTrajectory() {
    // GradScaler(init_scale=8, growth_factor=2, backoff_factor=0.5, growth_interval=3) for these
    // flags;
    // worked out from torch._amp_update_scale_: grow when the tracker reaches 3, reset it on
    // overflow.
    LossScaler scaler = new LossScaler(true, 8, 2.0, 0.5, 3, 0);
    List<Double> scales =
        trajectory(
            scaler, false, false, false, false, true, false, false, true, false, false, false,
            false);
    assertThat(scales)
        .containsExactly(8.0, 8.0, 8.0, 16.0, 16.0, 8.0, 8.0, 8.0, 4.0, 4.0, 4.0, 8.0, 8.0);
    assertThat(scaler.growthTracker()).isEqualTo(1);
  }

  @Test
  void growsAfterGrowthIntervalCleanStepsAndResetsTracker() {
    LossScaler scaler = new LossScaler(true, 65536, 2.0, 0.5, 2000, 1);
    for (int i = 0; i < 1999; i++) {
      scaler.update(false);
    }
    assertThat(scaler.scale()).isEqualTo(65536.0);
    assertThat(scaler.growthTracker()).isEqualTo(1999);
    scaler.update(false);
    assertThat(scaler.scale()).isEqualTo(131072.0);
    assertThat(scaler.growthTracker()).isZero();
  }

  @Test
  void overflowBacksOffAndResetsTracker() {
    LossScaler scaler = new LossScaler(true, 1024, 2.0, 0.5, 5, 1);
    scaler.update(false);
    scaler.update(false);
    scaler.update(false);
    assertThat(scaler.growthTracker()).isEqualTo(3);
    scaler.update(true);
    assertThat(scaler.scale()).isEqualTo(512.0);
    assertThat(scaler.growthTracker()).isZero();
    for (int i = 0; i < 4; i++) {
      scaler.update(false);
    }
    assertThat(scaler.scale()).as("four clean steps after the reset are not five").isEqualTo(512.0);
  }

  @Test
  void neverGrowsToInfinity() {
    float largest = (float) Math.pow(2, 127);
    LossScaler scaler = new LossScaler(true, largest, 2.0, 0.5, 1, 1);
    for (int i = 0; i < 10; i++) {
      scaler.update(false);
    }
    assertThat(scaler.scale()).isEqualTo(largest).isFinite();
  }

  @Test
  void respectsMinScale() {
    LossScaler scaler = new LossScaler(true, 4, 2.0, 0.5, 2000, 1);
    assertThat(trajectory(scaler, true, true, true, true)).containsExactly(4.0, 2.0, 1.0, 1.0, 1.0);
  }

  @Test
  void staticScaleNeverChanges() {
    LossScalingSpec spec = new LossScalingSpec();
    spec.mode = LossScalingSpec.Mode.STATIC;
    spec.initialScale = 128;
    spec.growthInterval = 1;
    LossScaler scaler = LossScaler.of(spec);
    assertThat(trajectory(scaler, true, false, false, true)).containsOnly(128.0);
  }

  @Test
  void defaultsAreGradScalers() {
    LossScaler scaler = LossScaler.of(null);
    assertThat(scaler.scale()).isEqualTo(65536.0);
    scaler.update(true);
    assertThat(scaler.scale()).isEqualTo(32768.0);
  }

  @Test
  void restoresCheckpointedState() {
    LossScaler scaler = new LossScaler(true, 8, 2.0, 0.5, 3, 0);
    scaler.restore(64, 2);
    scaler.update(false);
    assertThat(scaler.scale()).isEqualTo(128.0);
  }
}
