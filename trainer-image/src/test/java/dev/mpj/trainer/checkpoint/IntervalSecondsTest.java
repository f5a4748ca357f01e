package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.trainer.cli.TrainerCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** checkpoint.intervalSeconds writes checkpoints between the step interval's, as time passes. */
class IntervalSecondsTest {
  @TempDir Path dir;

  @Test
  void checkpointsFollowTheClockWhenIntervalSecondsIsSet() throws Exception {
    Path job = dir.resolve("job.yaml");
    // CPU FP16 is slow: 600 steps take several seconds (5-10 ms each), so a 1 s interval fires several times.
    Files.writeString(job, """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: clock}
        spec:
          precision: fp16-mixed
          model:
            architecture: mlp
            mlp: {hiddenSizes: [64, 64], activation: relu}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 2048, features: 32, classes: 8}
          training:
            globalBatchSize: 64
            steps: 600
            optimizer: {type: adam, learningRate: 0.002}
            seed: 0
          checkpoint: {intervalSteps: 1000, intervalSeconds: 1, keep: 100}
        """);
    Path out = dir.resolve("out");
    assertThat(TrainerCommand.commandLine().execute("train", "-f", job.toString(), "--output", out.toString())).isZero();
    double seconds = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("summary.json").toFile()).get("wallSeconds").asDouble();
    List<Path> checkpoints = CheckpointReader.checkpointFolders(out.resolve("checkpoints"));
    assertThat(checkpoints.get(0).getFileName()).hasToString("step-00000600");
    assertThat(seconds).as("the run must outlast the interval for this test to mean anything").isGreaterThan(2.5);
    assertThat(checkpoints.size()).as("timed checkpoints in %.1f s", seconds).isGreaterThanOrEqualTo(2);
    for (Path c : checkpoints) {
      assertThat(CheckpointReader.load(c).state().step()).isPositive();
    }
  }
}
