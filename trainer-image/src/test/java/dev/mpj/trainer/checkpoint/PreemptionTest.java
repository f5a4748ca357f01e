package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.TrainerContract;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance: SIGTERM mid-run leaves a checkpoint of the step it stopped at, within the grace
 * period.
 */
class PreemptionTest {
  private static final int GRACE_SECONDS = 10;

  @TempDir Path dir;

  @Test
  void sigtermWritesACheckpointOfTheCurrentStepAndExitsInterruptedWithinTheGrace()
      throws Exception {
    Path job = dir.resolve("job.yaml");
    Files.writeString(
        job,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: preempted}
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
            steps: 5000
            optimizer: {type: adam, learningRate: 0.002}
            seed: 0
          checkpoint: {intervalSteps: 1000, keep: 2}
        """);
    Path out = dir.resolve("out");
    TrainerProcess trainer =
        TrainerProcess.start(
            job, out, "--termination-grace-seconds", Integer.toString(GRACE_SECONDS));
    trainer.awaitStep(25);
    long signalled = System.nanoTime();
    trainer.process.destroy(); // SIGTERM
    int exit = trainer.waitFor(GRACE_SECONDS + 20);
    double seconds = (System.nanoTime() - signalled) / 1e9;

    assertThat(exit).as(trainer.log()).isEqualTo(TrainerContract.EXIT_PREEMPTED);
    assertThat(seconds).as("exit after SIGTERM").isLessThan(GRACE_SECONDS);
    long lastStep = TrainerProcess.lastStep(out);
    assertThat(lastStep).as("stopped mid-run, between interval checkpoints").isBetween(25L, 999L);
    Path checkpoints = out.resolve("checkpoints");
    assertThat(CheckpointReader.latestName(checkpoints))
        .isEqualTo(CheckpointWriter.folderName(lastStep));
    CheckpointReader.Loaded loaded =
        CheckpointReader.load(checkpoints.resolve(CheckpointWriter.folderName(lastStep)));
    assertThat(loaded.state().step()).isEqualTo(lastStep);
    assertThat(trainer.log()).contains("SIGTERM", "exit 143");
    assertThat(Files.exists(out.resolve("summary.json"))).as("the run did not finish").isFalse();
  }
}
