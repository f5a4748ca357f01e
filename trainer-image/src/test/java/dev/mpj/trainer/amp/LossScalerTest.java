package dev.mpj.trainer.amp;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mpj.api.LossScalingSpec;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Percentage;
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

  /**
   * One pass over pieces: the unscaled global norm of gradients spanning several pieces, against
   * the norm worked out in double from the same values; FP16 gradients whose scaled norm is far
   * beyond FP16's range are finite; one inf or NaN anywhere is found.
   */
  @Test
  void unscaleFindsTheGlobalNormAndAnyNonFiniteElementInOnePass() {
    try (NDManager manager = NDManager.newBaseManager()) {
      manager.getEngine().setRandomSeed(3);
      LossScaler scaler = new LossScaler(true, 1024, 2.0, 0.5, 2000, 1);
      List<NDArray> gradients =
          List.of(
              manager.randomNormal(0, 100, new Shape(600, 1000), DataType.FLOAT32),
              manager.randomNormal(0, 100, new Shape(33), DataType.FLOAT32));
      List<NDArray> fp16 = gradients.stream().map(g -> g.toType(DataType.FLOAT16, false)).toList();
      double sum = 0;
      for (NDArray g : fp16) {
        for (float value : g.toType(DataType.FLOAT32, false).toFloatArray()) {
          sum += (double) value * value;
        }
      }
      double expected = Math.sqrt(sum) / 1024;
      assertThat(expected * 1024).as("the scaled norm is beyond FP16's range").isGreaterThan(65504);

      UnscaledGradients unscaled = scaler.unscale(fp16);
      assertThat(unscaled.nonFinite()).isFalse();
      // libtorch sums a piece's squares in FP32: relative error of a few 1e-6 over 2^18 elements
      assertThat(unscaled.norm()).isCloseTo(expected, Percentage.withPercentage(0.01));
      assertThat(unscaled.inverseScale()).isEqualTo(1.0 / 1024);
      assertThat(scaler.unscale(gradients).norm())
          .isCloseTo(expected, Percentage.withPercentage(0.1)); // FP32, not rounded to FP16

      for (float bad : new float[] {Float.POSITIVE_INFINITY, Float.NaN}) {
        NDArray copy = fp16.get(0).duplicate();
        copy.set(new NDIndex(599, 999), bad); // in the last piece
        assertThat(scaler.unscale(List.of(fp16.get(1), copy)).nonFinite()).as("" + bad).isTrue();
      }
    }
  }
}
