package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import dev.mpj.trainer.optim.Optimizer;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class MixedPrecisionTest {

  @Test
  void injectedOverflowSkipsTheStepAndLeavesMasterWeightsAndOptimizerStateBitIdentical() {
    try (TrainingSession session =
        Jobs.session(Jobs.job("fp16-mixed", Jobs.mlpClassification(10, 16)), null)) {
      session.addListener(
          new TrainingListener() {
            @Override
            public void afterBackward(long step, List<NDArray> gradients) {
              if (step == 3) {
                gradients
                    .get(1)
                    .set(
                        new NDIndex(0),
                        Float.POSITIVE_INFINITY); // one gradient element becomes inf
              }
            }
          });
      session.runStep();
      session.runStep();
      List<int[]> masterBefore = bits(session.weights().masterArrays());
      List<int[]> stateBefore = bits(state(session.optimizer()));
      long updatesBefore = session.optimizer().updates();
      double scaleBefore = session.scaler().scale();

      StepResult overflowed = session.runStep();

      assertThat(overflowed.overflow()).isTrue();
      assertThat(bits(session.weights().masterArrays()))
          .usingRecursiveComparison()
          .isEqualTo(masterBefore);
      assertThat(bits(state(session.optimizer())))
          .usingRecursiveComparison()
          .isEqualTo(stateBefore);
      assertThat(session.optimizer().updates()).isEqualTo(updatesBefore);
      assertThat(session.scaler().scale()).isEqualTo(scaleBefore / 2);

      StepResult next = session.runStep();
      assertThat(next.overflow())
          .as("the inf was cleared with the gradients, not turned into NaN")
          .isFalse();
      assertThat(bits(session.weights().masterArrays()))
          .usingRecursiveComparison()
          .isNotEqualTo(masterBefore);
    }
  }

  @Test
  void fp16MixedReachesFp32ValidationAccuracyWithinOnePoint() {
    double fp32;
    double fp16;
    try (TrainingSession session =
        Jobs.session(Jobs.job("fp32", Jobs.mlpClassification(300, 64)), null)) {
      fp32 = session.run().validation().accuracy();
    }
    try (TrainingSession session =
        Jobs.session(Jobs.job("fp16-mixed", Jobs.mlpClassification(300, 64)), null)) {
      RunSummary summary = session.run();
      fp16 = summary.validation().accuracy();
      assertThat(session.weights().workingType()).isEqualTo(DataType.FLOAT16);
      assertThat(session.weights().masterArrays())
          .allMatch(a -> a.getDataType() == DataType.FLOAT32);
    }
    assertThat(fp32).as("the task is learnable").isGreaterThan(0.6);
    assertThat(Math.abs(fp16 - fp32))
        .as("fp16 %.4f against fp32 %.4f", fp16, fp32)
        .isLessThanOrEqualTo(0.01);
  }

  @Test
  void gradientAccumulationAddsUpToTheFullBatch() {
    // Same data, same seed: 4 micro-batches of 16 give the gradient of one batch of 64 (up to
    // rounding).
    try (TrainingSession whole =
            Jobs.session(Jobs.job("fp32", Jobs.mlpClassification(5, 16)), null);
        TrainingSession accumulated =
            Jobs.session(Jobs.job("fp32", Jobs.mlpClassification(5, 16)), 16)) {
      for (int i = 0; i < 5; i++) {
        StepResult a = whole.runStep();
        StepResult b = accumulated.runStep();
        assertThat(b.accumulation()).isEqualTo(4);
        assertThat(b.loss()).isCloseTo(a.loss(), Offset.offset(1e-5));
        assertThat(b.gradNorm()).isCloseTo(a.gradNorm(), Offset.offset(1e-4));
      }
    }
  }

  @Test
  void batchNormRunningStatisticsStayFp32AndTrackTheData() {
    String cnn =
        """
        model:
          architecture: cnn
          cnn: {channels: [4], blocksPerStage: 1}
        data:
          source: synthetic
          synthetic: {task: classification, samples: 256, features: 36, classes: 3}
        training:
          globalBatchSize: 32
          steps: 4
          seed: 1
        """;
    try (TrainingSession fp16 = Jobs.session(Jobs.job("fp16-mixed", cnn), null);
        TrainingSession fp32 = Jobs.session(Jobs.job("fp32", cnn), null)) {
      fp16.run();
      fp32.run();
      List<Parameter> stats16 = runningStatistics(fp16);
      List<Parameter> stats32 = runningStatistics(fp32);
      assertThat(stats16)
          .isNotEmpty()
          .allMatch(p -> p.getArray().getDataType() == DataType.FLOAT32);
      // The running means follow the same data in both precisions: they differ by FP16 activation
      // rounding,
      // not by the drift of an FP16 accumulator.
      for (int i = 0; i < stats16.size(); i++) {
        float[] a = stats16.get(i).getArray().toFloatArray();
        float[] b = stats32.get(i).getArray().toFloatArray();
        for (int j = 0; j < a.length; j++) {
          assertThat(a[j]).isCloseTo(b[j], Offset.offset(0.05f + 0.05f * Math.abs(b[j])));
        }
      }
      assertThat(stats32.get(0).getArray().toFloatArray())
          .as("running mean moved from its zero start")
          .isNotEqualTo(new float[4]);
    }
  }

  private static List<Parameter> runningStatistics(TrainingSession s) {
    List<Parameter> out = new ArrayList<>();
    for (Parameter p : s.weights().working().getParameters().values()) {
      if (!p.requiresGradient()) {
        out.add(p);
      }
    }
    return out;
  }

  private static List<NDArray> state(Optimizer optimizer) {
    return optimizer.state().stream().map(Optimizer.NamedArray::array).toList();
  }

  private static List<int[]> bits(List<NDArray> arrays) {
    List<int[]> out = new ArrayList<>();
    for (NDArray a : arrays) {
      float[] values = a.toFloatArray();
      int[] raw = new int[values.length];
      for (int i = 0; i < values.length; i++) {
        raw[i] = Float.floatToRawIntBits(values[i]);
      }
      out.add(raw);
    }
    return out;
  }
}
