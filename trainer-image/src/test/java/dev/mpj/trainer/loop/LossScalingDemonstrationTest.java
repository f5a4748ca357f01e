package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.assertj.core.data.Percentage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What loss scaling is for: a linear regression on inputs around 5e-5 whose weight gradients are
 * around 1e-8, below FP16's smallest subnormal (2^-24, about 6e-8). Backward in FP16 at scale 1
 * rounds them to zero; at the dynamic scale they are representable and survive unscaling in FP32.
 */
class LossScalingDemonstrationTest {
  private static final double SMALLEST_FP16_SUBNORMAL = Math.pow(2, -24);

  @TempDir Path dir;

  @Test
  void staticScaleOneLosesGradientsBelowFp16RangeAndDynamicScalingKeepsThem() throws IOException {
    Path csv = dir.resolve("tiny.csv");
    StringBuilder text = new StringBuilder("a,b,c,d,e,f,g,h,target\n");
    Random random = new Random(3);
    for (int row = 0; row < 256; row++) {
      for (int f = 0; f < 8; f++) {
        text.append((0.3 + 0.3 * random.nextDouble()) * 1e-4).append(',');
      }
      text.append((random.nextDouble() + 0.5) * 1e-5).append('\n');
    }
    Files.writeString(csv, text);

    WeightGradients fp32 = run("fp32", "", csv);
    WeightGradients staticOne =
        run("fp16-mixed", "lossScaling: {mode: static, initialScale: 1}", csv);
    WeightGradients dynamic = run("fp16-mixed", "lossScaling: {mode: dynamic}", csv);

    assertThat(fp32.zeros).as("in FP32 no weight gradient is zero").isZero();
    assertThat(fp32.largest)
        .as("the task's weight gradients are below FP16's smallest subnormal")
        .isGreaterThan(0)
        .isLessThan(SMALLEST_FP16_SUBNORMAL);
    assertThat(staticOne.zeros)
        .as("static scale 1: every weight gradient flushed to zero")
        .isEqualTo(staticOne.total);
    assertThat(dynamic.zeros).as("dynamic scaling keeps them").isZero();
    assertThat(dynamic.largest).isCloseTo(fp32.largest, Percentage.withPercentage(10));
  }

  private static WeightGradients run(String precision, String scaling, Path csv) {
    String spec =
        """
        %s
        model:
          architecture: mlp
          mlp: {hiddenSizes: []}
        data:
          source: csv
          csv: {path: %s, labelColumn: target, task: regression}
          validationFraction: 0
        training:
          globalBatchSize: 64
          steps: 3
          optimizer: {type: sgd, learningRate: 0.01}
          seed: 0
        """
            .formatted(scaling, csv);
    try (TrainingSession session = Jobs.session(Jobs.job(precision, spec), null)) {
      WeightGradients seen = new WeightGradients(session);
      session.addListener(seen);
      session.run();
      return seen;
    }
  }

  /**
   * Counts zero elements of the first parameter's (the weight matrix's) gradient, unscaled in FP32
   * as the update unscales it: backward's gradient, in FP32, times 1/scale.
   */
  private static final class WeightGradients implements TrainingListener {
    private final TrainingSession session;
    long zeros;
    long total;
    double largest;

    WeightGradients(TrainingSession session) {
      this.session = session;
    }

    @Override
    public void afterBackward(long step, List<NDArray> gradients) {
      float[] weight;
      try (NDArray fp32 = gradients.get(0).toType(DataType.FLOAT32, true);
          NDArray unscaled = fp32.mul((float) (1.0 / session.scaler().scale()))) {
        weight = unscaled.toFloatArray();
      }
      for (float g : weight) {
        total++;
        if (g == 0f) {
          zeros++;
        }
        largest = Math.max(largest, Math.abs(g));
      }
    }
  }
}
