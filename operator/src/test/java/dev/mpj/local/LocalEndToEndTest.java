package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.JobFiles;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole system on one machine, as the README's first command runs it: the quick-start job, two
 * replicas in fp16-mixed, one of them killed mid-run; the job restarts from its checkpoint and
 * finishes.
 */
class LocalEndToEndTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long KILL_AT_STEP = 120;

  @Test
  void aKilledReplicaIsRestartedFromTheCheckpointAndTheJobSucceeds(@TempDir Path dir)
      throws Exception {
    Path quickstart = LocalProcess.ROOT.resolve("docs/examples/quickstart.yaml");
    Path workDir = dir.resolve("work");
    Path log = dir.resolve("mpj-local.log");

    Process local =
        LocalProcess.start(
            log,
            "-f",
            quickstart.toString(),
            "--work-dir",
            workDir.toString(),
            "--fail",
            "1@" + KILL_AT_STEP);
    boolean exited = local.waitFor(10, TimeUnit.MINUTES);
    String output = Files.readString(log);
    if (!exited) {
      local.destroyForcibly();
    }
    assertThat(exited).as("mpj local finished; output:%n%s", output).isTrue();
    assertThat(local.exitValue()).as("exit code; output:%n%s", output).isZero();

    MixedPrecisionJob job = JobFiles.parse(Files.readString(workDir.resolve("job.yaml")));
    assertThat(job.getStatus().phase).isEqualTo(JobPhase.Succeeded);
    assertThat(job.getStatus().restarts).isEqualTo(1);
    assertThat(job.getStatus().attempt).isEqualTo(2);

    int interval = job.getSpec().checkpoint.intervalSteps;
    long checkpointBeforeKill = KILL_AT_STEP / interval * interval;
    List<JsonNode> firstAttempt = metrics(workDir, 0, 1);
    List<JsonNode> killed = metrics(workDir, 1, 1);
    List<JsonNode> secondAttempt = metrics(workDir, 0, 2);
    assertThat(killed.get(killed.size() - 1).get("step").asLong())
        .as("replica 1 was killed at step %d, before the next checkpoint", KILL_AT_STEP)
        .isBetween(KILL_AT_STEP, checkpointBeforeKill + interval - 1);
    assertThat(secondAttempt.get(0).get("step").asLong())
        .as("attempt 2 resumed from the checkpoint of step %d", checkpointBeforeKill)
        .isEqualTo(checkpointBeforeKill + 1);

    JsonNode summary = JSON.readTree(output(workDir, 0, 2).resolve("summary.json").toFile());
    assertThat(summary.get("resumedFromStep").asLong()).isEqualTo(checkpointBeforeKill);
    double startingLoss = firstAttempt.get(0).get("loss").asDouble();
    assertThat(summary.at("/validation/loss").asDouble()).isLessThan(startingLoss);
    assertThat(output).contains("--fail: killing replica 1").contains("Succeeded");
    // Why the gang restarted stays in the status: the killed replica (exit 137), or, when the
    // operator saw its peer first, what the peer said about it.
    assertThat(job.getStatus().restartHistory)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.attempt).isEqualTo(1);
              assertThat(r.reason).isEqualTo("ReplicaFailed");
              assertThat(r.message)
                  .matches(
                      "pod quickstart-worker-1 failed: exit code 137.*"
                          + "|pod quickstart-worker-0 failed: exit code 75 \\(Error\\): rank 0 of 2:"
                          + " the replicas failed: .*")
                  .doesNotContain("\n");
              assertThat(output).contains("attempt 1: " + r.message);
            });
  }

  private static List<JsonNode> metrics(Path workDir, int rank, int attempt) throws Exception {
    return Files.readAllLines(output(workDir, rank, attempt).resolve("metrics.jsonl")).stream()
        .filter(line -> !line.isBlank())
        .map(LocalEndToEndTest::parse)
        .toList();
  }

  /** The output folder of one replica in one attempt, wherever the kubelet mapped its volume. */
  private static Path output(Path workDir, int rank, int attempt) throws Exception {
    Path pod = workDir.resolve("pods/quickstart-worker-" + rank + "-attempt-" + attempt);
    try (Stream<Path> files = Files.walk(pod)) {
      return files
          .filter(p -> p.getFileName().toString().equals("metrics.jsonl"))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no metrics.jsonl under " + pod))
          .getParent();
    }
  }

  private static JsonNode parse(String line) {
    try {
      return JSON.readTree(line);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
