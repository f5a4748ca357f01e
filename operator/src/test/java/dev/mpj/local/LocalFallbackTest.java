package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.JobFiles;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import io.fabric8.kubernetes.api.model.Condition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The FP32 fallback through the whole system: FP16 at a static scale of 1 loses the weight
 * gradients of LossScalingDemonstrationTest's task; the health turns false at step 10, and with
 * onDivergence: fallback-fp32 the job finishes in FP32 from the checkpoint of step 10, while with
 * fail it fails with the reason.
 */
class LocalFallbackTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  @Test
  void fallbackFp32FinishesTheJobInFp32FromTheLastCheckpoint() throws Exception {
    Path workDir = dir.resolve("work");
    String output = run("fallback-fp32", workDir, 0);
    MixedPrecisionJob job = JobFiles.parse(Files.readString(workDir.resolve("job.yaml")));
    assertThat(job.getStatus().phase).as(output).isEqualTo(JobPhase.Succeeded);
    assertThat(job.getStatus().restarts).as("the fallback is not a failure").isZero();
    assertThat(job.getStatus().attempt).isEqualTo(2);
    assertThat(job.getStatus().precisionFallback.step).isEqualTo(10L);
    assertThat(job.getStatus().precisionFallback.reasons).containsExactly("GradientsUnderflow");
    assertThat(output)
        .as("TrainingHealthy turned False first (its Warning Event)")
        .contains("event    GradientsUnderflow");
    assertThat(condition(job, "TrainingHealthy").getStatus())
        .as("the FP32 attempt reported healthy")
        .isEqualTo("True");

    JsonNode summary = JSON.readTree(output(workDir, 2).resolve("summary.json").toFile());
    assertThat(summary.get("precision").asText()).isEqualTo("fp32");
    assertThat(summary.get("resumedFromStep").asLong()).isEqualTo(10);
    assertThat(summary.get("steps").asLong()).isEqualTo(40);
  }

  @Test
  void failEndsTheJobWithTheReason() throws Exception {
    Path workDir = dir.resolve("work");
    String output = run("fail", workDir, 1);
    MixedPrecisionJob job = JobFiles.parse(Files.readString(workDir.resolve("job.yaml")));
    assertThat(job.getStatus().phase).as(output).isEqualTo(JobPhase.Failed);
    assertThat(condition(job, "Failed").getReason()).isEqualTo("TrainingUnhealthy");
    assertThat(condition(job, "TrainingHealthy").getReason()).isEqualTo("GradientsUnderflow");
    assertThat(job.getStatus().precisionFallback).isNull();
  }

  private String run(String onDivergence, Path workDir, int expectedExit) throws Exception {
    Path csv = dir.resolve("tiny.csv");
    StringBuilder text = new StringBuilder("a,b,c,d,e,f,g,h,target\n");
    Random random = new Random(3);
    for (int row = 0; row < 256; row++) {
      for (int f = 0; f < 8; f++) {
        text.append((0.3 + 0.3 * random.nextDouble()) * 1e-4).append(',');
      }
      text.append((random.nextDouble() + 0.5) * 1e-5).append('\n');
    }
    Files.writeString(csv, text);
    Path jobFile = dir.resolve("job.yaml");
    Files.writeString(
        jobFile,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: unhealthy}
        spec:
          precision: fp16-mixed
          lossScaling: {mode: static, initialScale: 1}
          model:
            architecture: mlp
            mlp: {hiddenSizes: []}
          data:
            source: csv
            csv: {path: %s, labelColumn: target, task: regression}
            validationFraction: 0
          training:
            globalBatchSize: 64
            steps: 40
            optimizer: {type: sgd, learningRate: 0.01}
            seed: 0
          replicas: {min: 1, max: 1}
          resources: {gpusPerReplica: 1, gpuMemory: 16Gi, cpu: "1", memory: 2Gi}
          checkpoint: {intervalSteps: 5, keep: 3, volume: {size: 1Gi}}
          health: {windowSteps: 10}
          parity: {onDivergence: %s}
        """
            .formatted(csv, onDivergence));
    Path log = dir.resolve("mpj-local.log");
    Process local =
        LocalProcess.start(log, "-f", jobFile.toString(), "--work-dir", workDir.toString());
    boolean exited = local.waitFor(8, TimeUnit.MINUTES);
    String output = Files.readString(log);
    if (!exited) {
      local.destroyForcibly();
    }
    assertThat(exited).as("mpj local finished; output:%n%s", output).isTrue();
    assertThat(local.exitValue()).as("exit code; output:%n%s", output).isEqualTo(expectedExit);
    return output;
  }

  private static Condition condition(MixedPrecisionJob job, String type) {
    return job.getStatus().conditions.stream()
        .filter(c -> c.getType().equals(type))
        .findFirst()
        .orElseThrow();
  }

  private static Path output(Path workDir, int attempt) throws Exception {
    Path pod = workDir.resolve("pods/unhealthy-worker-0-attempt-" + attempt);
    try (Stream<Path> files = Files.walk(pod)) {
      return files
          .filter(p -> p.getFileName().toString().equals("summary.json"))
          .findFirst()
          .orElseThrow(() -> new AssertionError("no summary.json under " + pod))
          .getParent();
    }
  }
}
