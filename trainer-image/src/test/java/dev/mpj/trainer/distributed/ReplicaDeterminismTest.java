package dev.mpj.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.mpj.trainer.checkpoint.CheckpointWriter;
import dev.mpj.trainer.cli.TrainerCommand;
import dev.mpj.trainer.collective.RendezvousConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fp16-mixed CNN of issue 22 on two replicas ({@code mpj-trainer train -f} processes), three
 * times over, at once: the three runs end with the same weights and optimizer state bit for bit,
 * and both replicas of every run report the same steps, skips included, as the other runs. (One
 * replica is the matrix of {@code ProcessDeterminismTest}.)
 */
class ReplicaDeterminismTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STEPS = 16;
  private static final int RUNS = 3;

  @TempDir Path dir;

  @Test
  void threeTwoReplicaRunsEndWithTheSameBitsAndSkipTheSameSteps() throws Exception {
    Path job = dir.resolve("job.yaml");
    Files.writeString(
        job,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: replicas}
        spec:
          precision: fp16-mixed
          lossScaling: {mode: dynamic, initialScale: 16777216, growthInterval: 4}
          model:
            architecture: cnn
            cnn: {channels: [4, 8], blocksPerStage: 1}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 512, features: 16, classes: 4}
            imageShape: [1, 4, 4]
            validationFraction: 0.25
          training:
            globalBatchSize: 16
            steps: %d
            optimizer: {type: adam, learningRate: 0.01}
            gradientClipNorm: 1.0
            seed: 5
          checkpoint: {intervalSteps: %d}
        """
            .formatted(STEPS, STEPS));
    try (ReplicaProcessRuns runs = new ReplicaProcessRuns()) {
      List<Process> processes = new ArrayList<>();
      List<Path> logs = new ArrayList<>();
      for (int run = 0; run < RUNS; run++) {
        RendezvousConfig config = ReplicaProcessRuns.rendezvous(2, Duration.ofSeconds(60));
        for (int rank = 0; rank < 2; rank++) {
          Path log = dir.resolve("run-" + run + "-rank-" + rank + ".log");
          List<String> train =
              List.of("train", "-f", job.toString(), "--output", rank(run, rank).toString());
          processes.add(runs.start(config.withRank(rank), TrainerCommand.class, train, log));
          logs.add(log);
        }
      }
      for (int i = 0; i < processes.size(); i++) {
        assertThat(
                ReplicaProcessRuns.exitCode(processes.get(i), Duration.ofSeconds(180), logs.get(i)))
            .as(ReplicaProcessRuns.read(logs.get(i)))
            .isZero();
      }
    }

    List<JsonNode> reference = steps(rank(0, 0));
    assertThat(reference).hasSize(STEPS);
    assertThat(reference.get(0).get("skipped").asBoolean())
        .as("the loss scale of 2^24 overflows at first")
        .isTrue();
    Path checkpoint = rank(0, 0).resolve("checkpoints").resolve(CheckpointWriter.folderName(STEPS));
    for (int run = 0; run < RUNS; run++) {
      for (int rank = 0; rank < 2; rank++) {
        assertThat(steps(rank(run, rank))).as("run %d rank %d", run, rank).isEqualTo(reference);
      }
      Path other = rank(run, 0).resolve("checkpoints").resolve(CheckpointWriter.folderName(STEPS));
      for (String file : List.of(CheckpointWriter.MODEL, CheckpointWriter.OPTIMIZER)) {
        assertThat(Files.readAllBytes(other.resolve(file)))
            .as("%s of run %d", file, run)
            .isEqualTo(Files.readAllBytes(checkpoint.resolve(file)));
      }
    }
  }

  private Path rank(int run, int rank) {
    return dir.resolve("run-" + run).resolve("rank-" + rank);
  }

  /** metrics.jsonl without the throughput and the checkpoint's timings, which may differ. */
  private static List<JsonNode> steps(Path output) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(output.resolve("metrics.jsonl"))) {
      ObjectNode step = (ObjectNode) JSON.readTree(line);
      step.remove("samplesPerSecond");
      step.remove("checkpoint");
      out.add(step);
    }
    return out;
  }
}
