package dev.mpj.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.TrainerContract;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bad data file stops every replica of a gang before the rendezvous: each one reads and checks
 * the file itself, so none waits out the rendezvous timeout for a peer that has already failed.
 */
class BadDataFileGangTest {
  @TempDir Path dir;

  private final List<Process> replicas = new ArrayList<>();

  @AfterEach
  void stopReplicas() {
    for (Process replica : replicas) {
      replica.destroyForcibly();
    }
  }

  @Test
  void everyReplicaRefusesAFractionalClassLabelWithExitTwoAndNoStackTrace() throws Exception {
    Path csv = dir.resolve("train.csv");
    Files.writeString(csv, "a,b,label\n0.1,0.2,0\n0.3,0.4,1\n0.5,0.6,2.5\n0.7,0.8,1\n");
    Path job = dir.resolve("job.yaml");
    Files.writeString(
        job,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: bad-labels}
        spec:
          precision: fp32
          model: {architecture: mlp, mlp: {hiddenSizes: [8]}}
          data:
            source: csv
            csv: {path: %s}
          training: {globalBatchSize: 2, steps: 2}
        """
            .formatted(csv));
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    for (int rank = 0; rank < 2; rank++) {
      replicas.add(start(job, rank, port));
    }
    for (int rank = 0; rank < 2; rank++) {
      Process replica = replicas.get(rank);
      assertThat(replica.waitFor(60, TimeUnit.SECONDS))
          .as("replica %d stops within 60 s, not after the 600 s rendezvous timeout", rank)
          .isTrue();
      String log = Files.readString(log(rank));
      assertThat(replica.exitValue()).as(log).isEqualTo(TrainerContract.EXIT_BAD_CONFIG);
      assertThat(log)
          .contains(
              "spec.data.csv.path: " + csv + " line 4, column \"label\": 2.5 is not a whole number")
          .doesNotContain("Exception")
          .doesNotContain("\tat ");
      assertThat(dir.resolve("out-" + rank)).doesNotExist();
    }
  }

  private Process start(Path job, int rank, int port) throws IOException {
    List<String> command =
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx256m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Dai.djl.offline=true",
            "-cp",
            System.getProperty("java.class.path"),
            TrainerCommand.class.getName(),
            "train",
            "-f",
            job.toString(),
            "--output",
            dir.resolve("out-" + rank).toString());
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log(rank).toFile());
    builder.environment().keySet().removeIf(name -> name.startsWith("MPJ_"));
    builder.environment().put(TrainerContract.ENV_RANK, Integer.toString(rank));
    builder.environment().put(TrainerContract.ENV_WORLD_SIZE, "2");
    builder.environment().put(TrainerContract.ENV_COORDINATOR_ADDR, "127.0.0.1");
    builder.environment().put(TrainerContract.ENV_COORDINATOR_PORT, Integer.toString(port));
    builder.environment().put(TrainerContract.ENV_JOB_TOKEN, "gang-token");
    builder.environment().put(TrainerContract.ENV_RENDEZVOUS_TIMEOUT_SECONDS, "600");
    return builder.start();
  }

  private Path log(int rank) {
    return dir.resolve("replica-" + rank + ".log");
  }
}
