package dev.mpj.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.TrainerContract;
import dev.mpj.testing.Eventually;
import dev.mpj.trainer.cli.TrainerCommand;
import dev.mpj.trainer.collective.RendezvousConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mpj-trainer train -f} as separate replica processes: strangers are refused, a dead peer
 * fails the gang.
 */
class ReplicaFaultTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private Path job(int steps) throws IOException {
    Path file = dir.resolve("job.yaml");
    Files.writeString(
        file,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: faults}
        spec:
          precision: fp16-mixed
          model:
            architecture: mlp
            mlp: {hiddenSizes: [32], activation: relu}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 960, features: 16, classes: 4}
            validationFraction: 0.2
          training:
            globalBatchSize: 48
            steps: %d
            optimizer: {type: adam, learningRate: 0.01}
            seed: 1
        """
            .formatted(steps));
    return file;
  }

  private static List<String> train(Path job, Path output) {
    return List.of("train", "-f", job.toString(), "--output", output.toString());
  }

  private static void awaitLine(Path file, String text, Duration limit, Process process)
      throws Exception {
    Eventually.until(
        limit,
        () -> {
          boolean written = ReplicaProcessRuns.read(file).contains(text);
          if (!written && !process.isAlive()) {
            throw new AssertionError(
                "the process ended without '"
                    + text
                    + "' in "
                    + file
                    + ":\n"
                    + ReplicaProcessRuns.read(file));
          }
          return written;
        },
        () -> "no '" + text + "' in " + file + ":\n" + ReplicaProcessRuns.read(file));
  }

  @Test
  void aStrangerWithTheWrongTokenIsRefusedAndTheRightReplicasTrain() throws Exception {
    Path job = job(20);
    RendezvousConfig config = ReplicaProcessRuns.rendezvous(2, Duration.ofSeconds(30));
    Map<String, String> stranger = new HashMap<>(config.withRank(1).toEnv());
    stranger.put(TrainerContract.ENV_JOB_TOKEN, "a-guessed-token");
    stranger.put(TrainerContract.ENV_RENDEZVOUS_TIMEOUT_SECONDS, "6");
    try (ReplicaProcessRuns runs = new ReplicaProcessRuns()) {
      Path log0 = dir.resolve("rank-0.log");
      Path strangerLog = dir.resolve("stranger.log");
      Process rank0 =
          runs.start(
              config.withRank(0), TrainerCommand.class, train(job, dir.resolve("rank-0")), log0);
      Process impostor =
          runs.start(
              stranger, TrainerCommand.class, train(job, dir.resolve("stranger")), strangerLog);
      // The right rank 1 comes only after rank 0 has turned the stranger away.
      awaitLine(log0, "refused a connection", Duration.ofSeconds(60), rank0);
      Path log1 = dir.resolve("rank-1.log");
      Process rank1 =
          runs.start(
              config.withRank(1), TrainerCommand.class, train(job, dir.resolve("rank-1")), log1);

      assertThat(ReplicaProcessRuns.exitCode(rank0, Duration.ofSeconds(60), log0))
          .as(ReplicaProcessRuns.read(log0))
          .isZero();
      assertThat(ReplicaProcessRuns.exitCode(rank1, Duration.ofSeconds(60), log1))
          .as(ReplicaProcessRuns.read(log1))
          .isZero();
      assertThat(ReplicaProcessRuns.exitCode(impostor, Duration.ofSeconds(60), strangerLog))
          .as(ReplicaProcessRuns.read(strangerLog))
          .isEqualTo(TrainerContract.EXIT_REPLICAS_FAILED);
      assertThat(ReplicaProcessRuns.read(strangerLog)).contains("failed authentication");
      assertThat(ReplicaProcessRuns.read(log1))
          .contains("identical on every replica after step 20");
    }
    JsonNode summary0 = JSON.readTree(dir.resolve("rank-0/summary.json").toFile());
    JsonNode summary1 = JSON.readTree(dir.resolve("rank-1/summary.json").toFile());
    assertThat(summary0.get("steps").asInt()).isEqualTo(20);
    assertThat(summary1.get("validation")).isEqualTo(summary0.get("validation"));
    assertThat(summary1.get("trainLoss")).isEqualTo(summary0.get("trainLoss"));
    assertThat(Files.exists(dir.resolve("stranger/summary.json"))).isFalse();
  }

  @Test
  void killingOneReplicaMakesTheOthersExitRetryableWithinTheTimeout() throws Exception {
    Path job = job(1_000_000);
    Duration timeout = Duration.ofSeconds(5);
    RendezvousConfig config = ReplicaProcessRuns.rendezvous(3, timeout);
    try (ReplicaProcessRuns runs = new ReplicaProcessRuns()) {
      List<Process> replicas = new ArrayList<>();
      List<Path> logs = new ArrayList<>();
      for (int rank = 0; rank < 3; rank++) {
        logs.add(dir.resolve("rank-" + rank + ".log"));
        replicas.add(
            runs.start(
                config.withRank(rank),
                TrainerCommand.class,
                train(job, dir.resolve("rank-" + rank)),
                logs.get(rank)));
      }
      awaitLine(
          dir.resolve("rank-0/metrics.jsonl"),
          "\"step\":5,",
          Duration.ofSeconds(60),
          replicas.get(0));

      replicas.get(1).destroyForcibly();
      long killed = System.nanoTime();
      for (int rank : new int[] {0, 2}) {
        int code =
            ReplicaProcessRuns.exitCode(
                replicas.get(rank), timeout.plusSeconds(30), logs.get(rank));
        Duration took = Duration.ofNanos(System.nanoTime() - killed);
        assertThat(code)
            .as(ReplicaProcessRuns.read(logs.get(rank)))
            .isEqualTo(TrainerContract.EXIT_REPLICAS_FAILED);
        assertThat(took).as("rank %d exited %s after the kill", rank, took).isLessThan(timeout);
        assertThat(ReplicaProcessRuns.read(logs.get(rank)))
            .contains("the replicas failed (retryable, exit 75)");
      }
    }
  }
}
