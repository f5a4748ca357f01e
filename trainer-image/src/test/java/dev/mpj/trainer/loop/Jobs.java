package dev.mpj.trainer.loop;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.validation.SpecValidator;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.data.DataSource;
import dev.mpj.trainer.data.DataSplit;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.model.ModelFactory;

/** Small jobs for tests, written as the YAML a user would write. */
final class Jobs {
  private Jobs() {}

  static String job(String precision, String spec) {
    return """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: test}
        spec:
          precision: %s
        %s
        """
        .formatted(precision, spec.indent(2));
  }

  static TrainingSession session(String yaml, Integer microBatch) {
    MixedPrecisionJob job = JobFiles.parse(yaml);
    SpecValidator.requireValid(job);
    RunConfig config = RunConfig.standalone(job, microBatch);
    Dataset all = DataSource.load(config.spec());
    ModelFactory.check(config.spec().model, all);
    return new TrainingSession(
        config, DataSplit.of(all, config.spec().data.validationFraction, config.seed()));
  }

  static String mlpClassification(int steps, int hidden) {
    return """
        model:
          architecture: mlp
          mlp: {hiddenSizes: [%d, %d], activation: relu}
        data:
          source: synthetic
          synthetic: {task: classification, samples: 4096, features: 32, classes: 8}
          validationFraction: 0.2
        training:
          globalBatchSize: 64
          steps: %d
          optimizer: {type: adam, learningRate: 0.002}
          gradientClipNorm: 1.0
          seed: 0
        """
        .formatted(hidden, hidden, steps);
  }
}
