package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.model.GraphScalar;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Cross-entropy by class index (log-softmax, then gather) against the one-hot form it replaced
 * (log-softmax times a one-hot target, summed): the same loss and the same gradient of the outputs,
 * bit for bit, for classes and for sequences, from FP32 and from FP16 outputs.
 */
class ObjectiveTest {

  @ParameterizedTest(name = "{0} from {1}")
  @CsvSource({
    "CLASSIFICATION, FLOAT32",
    "CLASSIFICATION, FLOAT16",
    "SEQUENCE, FLOAT32",
    "SEQUENCE, FLOAT16"
  })
  void classIndicesGiveTheOneHotLossAndGradientBitForBit(Dataset.Kind kind, DataType type) {
    int classes = 11;
    try (NDManager manager = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(7);
      Shape outputShape =
          kind == Dataset.Kind.SEQUENCE ? new Shape(6, 5, classes) : new Shape(6, classes);
      NDArray logits =
          manager.randomNormal(0, 3, outputShape, DataType.FLOAT32).toType(type, false);
      long[] ids = new long[(int) (outputShape.size() / classes)];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = (i * 7L + 3) % classes;
      }
      NDArray target =
          manager.create(ids, kind == Dataset.Kind.SEQUENCE ? new Shape(6, 5) : new Shape(6));
      NDArray weights = manager.randomUniform(0.5f, 2f, new Shape(6));

      NDArray byIndex = logits.duplicate();
      byIndex.setRequiresGradient(true);
      NDArray lossByIndex;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        lossByIndex = new Objective(kind).perSampleLoss(byIndex, target);
        collector.backward(lossByIndex.mul(weights).sum());
      }

      NDArray oneHot = logits.duplicate();
      oneHot.setRequiresGradient(true);
      NDArray lossOneHot;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray perValue =
            Objective.toFp32(oneHot)
                .logSoftmax(-1)
                .mul(target.oneHot(classes))
                .sum(new int[] {-1})
                .neg();
        lossOneHot = kind == Dataset.Kind.SEQUENCE ? perValue.mean(new int[] {1}) : perValue;
        collector.backward(lossOneHot.mul(weights).sum());
      }

      assertThat(lossByIndex.getDataType()).isEqualTo(DataType.FLOAT32);
      assertThat(bits(lossByIndex)).containsExactly(bits(lossOneHot));
      assertThat(byIndex.getGradient().getDataType()).isEqualTo(type);
      assertThat(bits(byIndex.getGradient())).containsExactly(bits(oneHot.getGradient()));
    }
  }

  /**
   * The loss as the trainer took it before this form (an FP16 output promoted by a multiplication
   * with an FP32 one, log-softmax, a gather by the target with a trailing axis added, that axis
   * dropped, negated, then the mean over a sequence's positions), against today's (the log-softmax
   * converting in the same call, the sign taken last, large outputs in pieces of rows), through the
   * session's weighting and loss scale: the same losses and gradients of the outputs, bit for bit,
   * whole and in pieces.
   */
  @ParameterizedTest(name = "{0} from {1}, {2} x {3} x {4}")
  @CsvSource({
    "CLASSIFICATION, FLOAT32, 6, 1, 11",
    "CLASSIFICATION, FLOAT16, 6, 1, 11",
    "CLASSIFICATION, FLOAT32, 13, 1, 4100",
    "CLASSIFICATION, FLOAT16, 13, 1, 4100",
    "SEQUENCE, FLOAT32, 6, 5, 11",
    "SEQUENCE, FLOAT16, 6, 5, 11",
    "SEQUENCE, FLOAT32, 6, 40, 128",
    "SEQUENCE, FLOAT16, 6, 40, 128",
    "SEQUENCE, FLOAT16, 3, 33, 200"
  })
  void theLossAndItsGradientAreThoseOfTheArithmeticItReplaced(
      Dataset.Kind kind, DataType type, int samples, int positions, int classes) {
    boolean sequence = kind == Dataset.Kind.SEQUENCE;
    try (NDManager manager = NDManager.newBaseManager()) {
      Engine.getInstance().setRandomSeed(11);
      Shape outputShape =
          sequence ? new Shape(samples, positions, classes) : new Shape(samples, classes);
      NDArray logits =
          manager.randomNormal(0, 4, outputShape, DataType.FLOAT32).toType(type, false);
      long[] ids = new long[(int) (outputShape.size() / classes)];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = (i * 7919L + 5) % classes;
      }
      NDArray target =
          manager.create(ids, sequence ? new Shape(samples, positions) : new Shape(samples));
      NDArray weight = GraphScalar.of(manager, 1f / 96);
      NDArray scale = GraphScalar.of(manager, 65536f);

      NDArray today = logits.duplicate();
      today.setRequiresGradient(true);
      NDArray lossToday;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        lossToday = new Objective(kind).perSampleLoss(today, target);
        collector.backward(lossToday.sum().mul(weight).mul(scale));
      }

      NDArray before = logits.duplicate();
      before.setRequiresGradient(true);
      NDArray lossBefore;
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray logProbabilities = Objective.toFp32(before).logSoftmax(-1);
        NDArray picked =
            logProbabilities.gather(target.expandDims(-1), outputShape.dimension() - 1);
        lossBefore =
            sequence ? picked.squeeze(-1).neg().mean(new int[] {1}) : picked.reshape(-1).neg();
        collector.backward(lossBefore.sum().mul(weight).mul(scale));
      }

      assertThat(lossToday.getShape()).isEqualTo(new Shape(samples));
      assertThat(bits(lossToday)).containsExactly(bits(lossBefore));
      assertThat(today.getGradient().getDataType()).isEqualTo(type);
      assertThat(bits(today.getGradient())).containsExactly(bits(before.getGradient()));
    }
  }

  private static int[] bits(NDArray array) {
    float[] values = array.toType(DataType.FLOAT32, false).toFloatArray();
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }
}
