package dev.mpj.trainer.checkpoint;

/**
 * The smallest job of each architecture that still has every part of it (BatchNorm and a strided
 * stage for the cnn, attention and dropout for the transformer), for tests that start trainer
 * processes. In fp16-mixed the loss scale starts at 2^24, overflows, backs off, and grows again
 * every 4 clean steps, so runs skip steps at the start and later.
 */
final class TinyJobs {
  private TinyJobs() {}

  static String job(String architecture, String precision, int steps, int checkpointInterval) {
    String lossScaling =
        precision.equals("fp16-mixed")
            ? "lossScaling: {mode: dynamic, initialScale: 16777216, growthInterval: 4}"
            : "";
    return """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: %s}
        spec:
          precision: %s
          %s
        %s
          training:
            globalBatchSize: 16
            steps: %d
            optimizer: {type: adam, learningRate: 0.01}
            gradientClipNorm: 1.0
            seed: 5
          checkpoint: {intervalSteps: %d, keep: 2}
        """
        .formatted(
            architecture,
            precision,
            lossScaling,
            modelAndData(architecture).indent(2).stripTrailing(),
            steps,
            checkpointInterval);
  }

  private static String modelAndData(String architecture) {
    return switch (architecture) {
      case "mlp" ->
          """
          model:
            architecture: mlp
            mlp: {hiddenSizes: [32, 32], activation: relu, dropout: 0.1}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 512, features: 16, classes: 4}
            validationFraction: 0.25
          """;
      case "cnn" ->
          """
          model:
            architecture: cnn
            cnn: {channels: [4, 8], blocksPerStage: 1}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 512, features: 16, classes: 4}
            imageShape: [1, 4, 4]
            validationFraction: 0.25
          """;
      case "transformer" ->
          """
          model:
            architecture: transformer
            transformer: {layers: 1, hiddenSize: 16, heads: 2, vocabSize: 16, sequenceLength: 8, dropout: 0.1}
          data:
            source: synthetic
            synthetic: {task: sequence, samples: 512}
            validationFraction: 0.25
          """;
      default -> throw new IllegalArgumentException(architecture);
    };
  }
}
