package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.mpj.trainer.data.Dataset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Issue 22's cause, guarded for every model: the gradients of a batch are the same bits whether or
 * not the garbage collector runs between forward and backward. Before the fix, BatchNorm2d's FP16
 * rescaling ({@code centred.div(s)}) and the attention's {@code div(sqrt(headSize))} handed
 * autograd a number in a Java buffer that a collection frees, and backward divided by garbage.
 */
class GradientsAfterCollectionTest {

  static String spec(String architecture) {
    return switch (architecture) {
      case "mlp" ->
          """
          model:
            architecture: mlp
            mlp: {hiddenSizes: [16], activation: gelu}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 256, features: 16, classes: 4}
          training: {globalBatchSize: 16, steps: 1, seed: 1}
          """;
      case "cnn" ->
          """
          model:
            architecture: cnn
            cnn: {channels: [4, 8], blocksPerStage: 1}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 256, features: 16, classes: 4}
            imageShape: [1, 4, 4]
          training: {globalBatchSize: 16, steps: 1, seed: 1}
          """;
      default ->
          """
          model:
            architecture: transformer
            transformer: {layers: 1, hiddenSize: 8, heads: 2, vocabSize: 16, sequenceLength: 8}
          data:
            source: synthetic
            synthetic: {task: sequence, samples: 256}
          training: {globalBatchSize: 16, steps: 1, seed: 1}
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
    "transformer, fp16-mixed"
  })
  void gradientsDoNotDependOnWhenTheCollectorRuns(String architecture, String precision)
      throws InterruptedException {
    try (TrainingSession session = Jobs.session(Jobs.job(precision, spec(architecture)), null)) {
      List<float[]> undisturbed = gradients(session, false);
      List<float[]> collected = gradients(session, true);
      for (int i = 0; i < undisturbed.size(); i++) {
        assertThat(collected.get(i))
            .as("%s %s: gradient of %s", architecture, precision, session.weights().names().get(i))
            .containsExactly(undisturbed.get(i));
      }
    }
  }

  /** Gradients of the first 16 training samples' summed loss, as FP32 values. */
  private static List<float[]> gradients(TrainingSession session, boolean collectBeforeBackward)
      throws InterruptedException {
    Dataset train = session.trainData();
    Objective objective = new Objective(train.kind());
    int[] rows = IntStream.range(0, 16).toArray();
    session.weights().zeroGradients();
    try (NDManager manager = NDManager.newBaseManager()) {
      try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
        NDArray x = train.inputBatch(manager, rows, session.weights().workingType());
        NDArray y = train.targetBatch(manager, rows);
        NDArray output =
            session
                .weights()
                .working()
                .forward(new ParameterStore(manager, false), new NDList(x), true)
                .head();
        NDArray loss = objective.perSampleLoss(output, y).sum();
        if (collectBeforeBackward) {
          System.gc();
          Thread.sleep(50); // the freed buffers' cleaners run on the reference handler thread
        }
        collector.backward(loss);
      }
      List<float[]> out = new ArrayList<>();
      for (NDArray g : session.weights().workingGradients()) {
        out.add(g.toType(DataType.FLOAT32, false).toFloatArray());
      }
      return out;
    }
  }
}
