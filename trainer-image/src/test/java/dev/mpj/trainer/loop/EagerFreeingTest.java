package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.mpj.trainer.model.Intermediates;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Freeing a forward pass's intermediates as soon as they are consumed changes no arithmetic: the
 * same job trained with every intermediate kept until the step ends ({@link
 * Intermediates#keepingAll}) and with eager freeing has bit-identical gradients at every step and
 * bit-identical weights and BatchNorm statistics after, in both precisions, with dropout and with
 * gradient accumulation (two micro-batches per step).
 */
class EagerFreeingTest {

  static String spec(String architecture) {
    return switch (architecture) {
      case "mlp" ->
          """
          model:
            architecture: mlp
            mlp: {hiddenSizes: [32, 24], activation: gelu, dropout: 0.1}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 256, features: 16, classes: 4}
          training:
            globalBatchSize: 32
            steps: 3
            optimizer: {type: adam, learningRate: 0.01}
            seed: 5
          """;
      case "cnn" ->
          """
          model:
            architecture: cnn
            cnn: {channels: [4, 8], blocksPerStage: 2}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 256, features: 64, classes: 4}
            imageShape: [1, 8, 8]
          training:
            globalBatchSize: 16
            steps: 3
            optimizer: {type: adam, learningRate: 0.01}
            seed: 5
          """;
      case "language-model" ->
          // 8 positions x 512 tokens = 4,096 logits per sample: the loss is taken in 8 pieces
          """
          model:
            architecture: transformer
            transformer: {layers: 1, hiddenSize: 16, heads: 2, vocabSize: 512, sequenceLength: 8}
          data:
            source: synthetic
            synthetic: {task: sequence, samples: 256}
          training:
            globalBatchSize: 16
            steps: 3
            optimizer: {type: adam, learningRate: 0.01}
            seed: 5
          """;
      default ->
          """
          model:
            architecture: transformer
            transformer: {layers: 2, hiddenSize: 16, heads: 2, vocabSize: 16, sequenceLength: 8, dropout: 0.1}
          data:
            source: synthetic
            synthetic: {task: sequence, samples: 256}
          training:
            globalBatchSize: 16
            steps: 3
            optimizer: {type: adam, learningRate: 0.01}
            seed: 5
          """;
    };
  }

  @ParameterizedTest(name = "{0} in {1}")
  @CsvSource({
    "mlp, fp32",
    "mlp, fp16-mixed",
    "cnn, fp32",
    "cnn, fp16-mixed",
    "transformer, fp32",
    "transformer, fp16-mixed",
    "language-model, fp32",
    "language-model, fp16-mixed"
  })
  void gradientsAreBitIdenticalWithAndWithoutEagerFreeing(String architecture, String precision) {
    String job = Jobs.job(precision, spec(architecture));
    List<float[]> kept = Intermediates.keepingAll(() -> train(job));
    List<float[]> freed = train(job);
    assertThat(freed).hasSameSizeAs(kept);
    for (int i = 0; i < kept.size(); i++) {
      assertThat(bits(freed.get(i))).as("array %d", i).containsExactly(bits(kept.get(i)));
    }
  }

  /** Every step's working gradients, then the master weights and the buffers at the end. */
  private static List<float[]> train(String job) {
    List<float[]> out = new ArrayList<>();
    // Micro-batch 8: two (cnn, transformer) or four (mlp) micro-batches accumulate per step.
    try (TrainingSession session = Jobs.session(job, 8)) {
      while (session.step() < session.totalSteps()) {
        session.runStep();
        for (NDArray g : session.weights().workingGradients()) {
          out.add(g.toType(DataType.FLOAT32, false).toFloatArray());
        }
      }
      session.weights().syncBuffersToMaster();
      session
          .weights()
          .master()
          .getParameters()
          .values()
          .forEach(p -> out.add(p.getArray().toFloatArray()));
    }
    return out;
  }

  private static int[] bits(float[] values) {
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    return bits;
  }
}
