package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.mpj.trainer.data.Dataset;
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

  private static int[] bits(NDArray array) {
    float[] values = array.toType(DataType.FLOAT32, false).toFloatArray();
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }
}
