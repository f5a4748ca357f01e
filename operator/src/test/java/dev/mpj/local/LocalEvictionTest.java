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
 * Preemption through the whole system: {@code mpj local --evict-at 20:1} queues a two-replica job
 * in the local Kueue, which evicts it at step 20 as preemption does; the operator stops the gang
 * (the trainers checkpoint on SIGTERM), releases the quota, and when the Workload is admitted again
 * with one replica resumes from that checkpoint. backoffLimit is 0, so a restart counted as a
 * failure would fail the job.
 */
class LocalEvictionTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long EVICT_AT = 20;
  private static final int STEPS = 300;

  @Test
  void anEvictedJobResumesWithFewerReplicasWithoutSpendingTheBackoffLimit(@TempDir Path dir)
      throws Exception {
    Path jobFile = dir.resolve("job.yaml");
    Files.writeString(
        jobFile,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: evicted}
        spec:
          precision: fp16-mixed
          model:
            architecture: mlp
            mlp: {hiddenSizes: [64, 64], activation: relu}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 1024, features: 16, classes: 4}
            validationFraction: 0.2
          training:
            globalBatchSize: 32
            steps: %d
            optimizer: {type: adam, learningRate: 0.002}
            seed: 0
          replicas: {min: 1, max: 2}
          resources: {gpusPerReplica: 1, gpuMemory: 16Gi, cpu: "1", memory: 1Gi}
          checkpoint:
            intervalSteps: 1000
            keep: 2
            volume: {size: 1Gi}
          runPolicy: {backoffLimit: 0}
        """
            .formatted(STEPS));
    Path workDir = dir.resolve("work");
    Path log = dir.resolve("mpj-local.log");
    Process local =
        LocalProcess.start(
            log,
            "-f",
            jobFile.toString(),
            "--work-dir",
            workDir.toString(),
            "--evict-at",
            EVICT_AT + ":1");
    boolean exited = local.waitFor(8, TimeUnit.MINUTES);
    String output = Files.readString(log);
    if (!exited) {
      local.destroyForcibly();
    }
    assertThat(exited).as("mpj local finished; output:%n%s", output).isTrue();
    assertThat(local.exitValue()).as("exit code; output:%n%s", output).isZero();

    MixedPrecisionJob job = JobFiles.parse(Files.readString(workDir.resolve("job.yaml")));
    assertThat(job.getStatus().phase).isEqualTo(JobPhase.Succeeded);
    assertThat(job.getStatus().restarts).as("restarts counted as failures").isZero();
    assertThat(job.getStatus().disruptions).isZero();
    assertThat(job.getStatus().attempt).isEqualTo(2);
    assertThat(job.getStatus().replicas).as("re-admitted with one replica").isEqualTo(1);
    assertThat(job.getMetadata().getLabels())
        .containsEntry("kueue.x-k8s.io/queue-name", "mpj-local");
    assertThat(job.getStatus().restartHistory)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.attempt).isEqualTo(1);
              assertThat(r.reason).isEqualTo("Suspended");
              assertThat(r.suspension).isEqualTo("Evicted");
              assertThat(r.message)
                  .startsWith("evicted by Kueue (Preempted: ")
                  .endsWith("resumed as attempt 2 with 1 replica");
            });

    // The first attempt ran two replicas and stopped after step 20 on SIGTERM with a checkpoint of
    // the step it stopped at (the interval, 1000, wrote none); the second ran one and went on from
    // the next step.
    List<JsonNode> first = metrics(workDir, 0, 1);
    assertThat(Files.isDirectory(workDir.resolve("pods/evicted-worker-1-attempt-1"))).isTrue();
    assertThat(Files.exists(workDir.resolve("pods/evicted-worker-1-attempt-2"))).isFalse();
    long stoppedAt = first.get(first.size() - 1).get("step").asLong();
    assertThat(stoppedAt).isBetween(EVICT_AT, (long) STEPS - 1);
    List<JsonNode> second = metrics(workDir, 0, 2);
    assertThat(second.get(0).get("step").asLong()).isEqualTo(stoppedAt + 1);
    assertThat(second.get(second.size() - 1).get("step").asLong()).isEqualTo(STEPS);
    JsonNode summary = JSON.readTree(output(workDir, 0, 2).resolve("summary.json").toFile());
    assertThat(summary.get("resumedFromStep").asLong()).isEqualTo(stoppedAt);
    assertThat(summary.get("steps").asLong()).isEqualTo(STEPS);

    assertThat(output)
        .contains("kueue: admitted in full: evicted-workload with 2 replicas")
        .contains("--evict-at: Kueue evicts evicted-workload")
        .contains("event    Suspended: evicted by Kueue (Preempted")
        .contains("kueue: admitted again after the eviction: evicted-workload with 1 replica")
        .contains("event    Started: resumed: attempt 2 with 1 replicas")
        .contains("Succeeded");
  }

  private static List<JsonNode> metrics(Path workDir, int rank, int attempt) throws Exception {
    return Files.readAllLines(output(workDir, rank, attempt).resolve("metrics.jsonl")).stream()
        .filter(line -> !line.isBlank())
        .map(LocalEvictionTest::parse)
        .toList();
  }

  private static Path output(Path workDir, int rank, int attempt) throws Exception {
    Path pod = workDir.resolve("pods/evicted-worker-" + rank + "-attempt-" + attempt);
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
