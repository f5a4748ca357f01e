package dev.mpj.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each architecture learns its task in both precisions: validation loss well below where it
 * started.
 */
class ArchitecturesTest {

  static String spec(String architecture) {
    return switch (architecture) {
      case "mlp" ->
          """
          model:
            architecture: mlp
            mlp: {hiddenSizes: [32], activation: gelu}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 1024, features: 16, classes: 4}
          training:
            globalBatchSize: 32
            steps: 60
            optimizer: {type: adam, learningRate: 0.01}
            seed: 2
          """;
      case "cnn" ->
          """
          model:
            architecture: cnn
            cnn: {channels: [4, 8], blocksPerStage: 1}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 512, features: 64, classes: 4}
            imageShape: [1, 8, 8]
          training:
            globalBatchSize: 16
            steps: 40
            optimizer: {type: adam, learningRate: 0.01}
            seed: 2
          """;
      default ->
          """
          model:
            architecture: transformer
            transformer: {layers: 1, hiddenSize: 16, heads: 2, vocabSize: 16, sequenceLength: 8}
          data:
            source: synthetic
            synthetic: {task: sequence, samples: 512}
          training:
            globalBatchSize: 32
            steps: 80
            optimizer: {type: adam, learningRate: 0.01}
            seed: 2
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
  void trainsToALossClearlyBelowTheStart(String architecture, String precision) {
    try (TrainingSession session = Jobs.session(Jobs.job(precision, spec(architecture)), null)) {
      double before = session.evaluate(session.weights().working()).loss();
      RunSummary summary = session.run();
      assertThat(summary.skippedSteps()).isLessThan(summary.steps() / 4);
      assertThat(summary.validation().loss())
          .as(
              "%s %s: validation loss %.4f from %.4f",
              architecture, precision, summary.validation().loss(), before)
          .isLessThan(0.6 * before);
      assertThat(summary.parameters()).isPositive();
    }
  }
}
