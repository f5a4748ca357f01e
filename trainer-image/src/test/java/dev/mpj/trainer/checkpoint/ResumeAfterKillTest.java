package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Acceptance of exact resume: a trainer killed with SIGKILL between checkpoints and started again
 * on the same output folder ends with the same master weights, byte for byte, as a run never
 * killed. Dropout is on, so the (seed, step) reseeding and the data position are exercised too.
 * Every architecture in both precisions.
 */
class ResumeAfterKillTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STEPS = 150;
  private static final int INTERVAL = 40;
  private static final int KILL_AT = 95;
  private static final int TINY_STEPS = 60;
  private static final int TINY_INTERVAL = 10;
  private static final int TINY_KILL_AT = 15;

  @TempDir Path dir;

  // CPU FP16 is ~65x slower than FP32: the fp16 job is smaller so that both take about 20 ms a
  // step.
  @ParameterizedTest
  @CsvSource({"fp32, 512, 256", "fp16-mixed, 64, 64"})
  void aKilledRunResumedEndsBitIdenticalToAnUninterruptedOne(
      String precision, int hidden, int batch) throws Exception {
    Path job = dir.resolve("job.yaml");
    Files.writeString(
        job,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: resume}
        spec:
          precision: %s
          model:
            architecture: mlp
            mlp: {hiddenSizes: [%d, %d], activation: relu, dropout: 0.1}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 4096, features: 32, classes: 8}
            validationFraction: 0.2
          training:
            globalBatchSize: %d
            steps: %d
            optimizer: {type: adam, learningRate: 0.002}
            gradientClipNorm: 1.0
            seed: 3
          checkpoint: {intervalSteps: %d, keep: 2}
        """
            .formatted(precision, hidden, hidden, batch, STEPS, INTERVAL));
    killResumeAndCompare(job, STEPS, KILL_AT);
  }

  /**
   * The CNN (BatchNorm's FP32 running statistics are part of the checkpoint) and the transformer
   * (dropout in attention and feed-forward), tiny; in fp16-mixed the loss scale overflows at first
   * and again as it grows, so the skipped steps and the scaler's state cross the kill as well.
   */
  @ParameterizedTest(name = "{0} in {1}")
  @CsvSource({"cnn, fp32", "cnn, fp16-mixed", "transformer, fp32", "transformer, fp16-mixed"})
  void everyArchitectureResumesBitIdentical(String architecture, String precision)
      throws Exception {
    Path job = dir.resolve("job.yaml");
    Files.writeString(job, TinyJobs.job(architecture, precision, TINY_STEPS, TINY_INTERVAL));
    killResumeAndCompare(job, TINY_STEPS, TINY_KILL_AT);
  }

  private void killResumeAndCompare(Path job, int steps, int killAt) throws Exception {
    Path whole = dir.resolve("uninterrupted");
    TrainerProcess uninterrupted = TrainerProcess.start(job, whole); // alongside the killed one

    Path out = dir.resolve("killed");
    TrainerProcess first = TrainerProcess.start(job, out);
    first.awaitStep(killAt);
    // A checkpoint is written beside the steps; on a loaded machine the steps can outrun it. Kill
    // once one is whole (the run has steps to go after it: the assertions below check that).
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (CheckpointReader.newestWhole(out.resolve("checkpoints"), m -> {}) == null
        && System.nanoTime() < deadline) {
      Thread.sleep(2);
    }
    first.process.destroyForcibly(); // SIGKILL: no hook, no flush
    first.waitFor(30);
    long killedAt = TrainerProcess.lastStep(out);
    long checkpointed =
        CheckpointReader.newestWhole(out.resolve("checkpoints"), m -> {}).state().step();
    assertThat(killedAt).as("killed mid-run").isLessThan(steps);
    assertThat(checkpointed)
        .as("steps after the checkpoint were lost and must be redone")
        .isLessThan(killedAt);
    assertThat(Files.exists(out.resolve("summary.json"))).isFalse();

    TrainerProcess second = TrainerProcess.start(job, out);
    assertThat(second.waitFor(120)).as(second.log()).isZero();
    assertThat(uninterrupted.waitFor(120)).as(uninterrupted.log()).isZero();
    assertThat(second.log())
        .contains("resuming from checkpoint " + CheckpointWriter.folderName(checkpointed));

    String last = CheckpointWriter.folderName(steps);
    for (String file : List.of(CheckpointWriter.MODEL, CheckpointWriter.OPTIMIZER)) {
      assertThat(Files.readAllBytes(out.resolve("checkpoints").resolve(last).resolve(file)))
          .as(file + " of the resumed run")
          .isEqualTo(Files.readAllBytes(whole.resolve("checkpoints").resolve(last).resolve(file)));
    }
    JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
    assertThat(summary.get("resumedFromStep").asLong()).isEqualTo(checkpointed);
    assertThat(summary.get("steps").asLong()).isEqualTo(steps);
    assertThat(summary.get("skippedSteps"))
        .isEqualTo(JSON.readTree(whole.resolve("summary.json").toFile()).get("skippedSteps"));

    // metrics.jsonl continues from the checkpoint: every step once, with the uninterrupted run's
    // losses and skips.
    List<JsonNode> resumed = lines(out);
    List<JsonNode> reference = lines(whole);
    assertThat(resumed).hasSize(steps);
    for (int i = 0; i < steps; i++) {
      assertThat(resumed.get(i).get("step").asLong()).isEqualTo(i + 1);
      assertThat(resumed.get(i).get("loss").asDouble())
          .as("loss of step %d", i + 1)
          .isEqualTo(reference.get(i).get("loss").asDouble());
      assertThat(resumed.get(i).get("skipped"))
          .as("skip of step %d", i + 1)
          .isEqualTo(reference.get(i).get("skipped"));
    }
  }

  private static List<JsonNode> lines(Path output) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(output.resolve("metrics.jsonl"))) {
      out.add(JSON.readTree(line));
    }
    return out;
  }
}
