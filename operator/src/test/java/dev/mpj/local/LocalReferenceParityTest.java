package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobFiles;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.ReferenceParityStatus;
import io.fabric8.kubernetes.api.model.Condition;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reference parity through the whole system, on the quick-start's data (a smaller MLP, one replica,
 * 30 steps, compared at step 20): the FP32 reference runs first as attempt 1, the job's fp16-mixed
 * run follows as attempt 2 and compares with it. A healthy mixed run passes with both accuracies
 * reported; one whose loss scale overflows FP16 on every step (initial and minimum scale 2^24)
 * learns nothing and fails parity with reason ParityExceeded.
 */
class LocalReferenceParityTest {
  @TempDir Path dir;

  /** What the last mpj local printed. */
  private String output;

  @Test
  void aHealthyMixedRunPassesAgainstItsFp32Reference() throws Exception {
    MixedPrecisionJob job = run("", "warn", 0);
    ReferenceParityStatus r = job.getStatus().parity.reference;
    assertThat(job.getStatus().phase).isEqualTo(JobPhase.Succeeded);
    assertThat(job.getStatus().attempt).as("reference, then the job's own run").isEqualTo(2);
    assertThat(job.getStatus().restarts).isZero();
    assertThat(r.phase).isEqualTo("Compared");
    assertThat(r.withinBounds).as(r.message).isTrue();
    assertThat(r.reference.precision).isEqualTo("fp32");
    assertThat(r.candidate.precision).isEqualTo("fp16-mixed");
    assertThat(r.reference.step).isEqualTo(20L);
    assertThat(r.candidate.step).isEqualTo(20L);
    assertThat(r.reference.validationAccuracy)
        .as("the reference learned (chance: 0.125)")
        .isGreaterThan(0.2);
    assertThat(r.candidate.validationAccuracy).isGreaterThan(0.2);
    assertThat(r.message).contains("(fp32 reference) vs", "within bounds");
    assertThat(condition(job, "PrecisionParity").getReason()).isEqualTo("ReferenceParityPassed");
    assertThat(condition(job, "TrainingHealthy").getStatus())
        .as("a healthy run stays healthy")
        .isEqualTo("True");
    assertThat(output)
        .as("no health Warning at any point")
        .doesNotContain(
            "event    LossScaleAtMinimum",
            "event    SkippedStepsHigh",
            "event    NonFiniteLoss",
            "event    GradientsUnderflow");
    assertThat(Files.exists(checkpoints().resolve("reference-fp32/step-00000020")))
        .as("the reference keeps its own checkpoints")
        .isTrue();
    assertThat(job.getStatus().report.referencePath).isEqualTo("reference-fp32/report");
    assertThat(checkpoints().resolve("report/summary.json")).exists();
    assertThat(checkpoints().resolve("reference-fp32/report/metrics.jsonl")).exists();
    Path html = dir.resolve("report.html");
    assertThat(
            dev.mpj.cli.MpjCommand.commandLine()
                .execute(
                    "report", "--work-dir", dir.resolve("work").toString(), "-o", html.toString()))
        .isZero();
    assertThat(Files.readString(html)).contains("PASSED", "(fp32 reference) vs");
  }

  @Test
  void aScaleThatOverflowsEveryStepFailsParity() throws Exception {
    MixedPrecisionJob job =
        run("lossScaling: {mode: dynamic, initialScale: 16777216, minScale: 16777216}", "fail", 1);
    ReferenceParityStatus r = job.getStatus().parity.reference;
    assertThat(job.getStatus().phase).isEqualTo(JobPhase.Failed);
    assertThat(condition(job, "Failed").getReason()).isEqualTo("ParityExceeded");
    assertThat(condition(job, "PrecisionParity").getStatus()).isEqualTo("False");
    assertThat(r.withinBounds).isFalse();
    assertThat(r.exceeded).contains("maxAccuracyDrop");
    assertThat(r.accuracyDropPoints).isGreaterThan(2.0);
    assertThat(Files.exists(checkpoints().resolve("step-00000020")))
        .as("a failed job keeps its checkpoints")
        .isTrue();
  }

  private Path checkpoints() {
    return dir.resolve("work/volumes/default-parity-checkpoints");
  }

  private MixedPrecisionJob run(String lossScaling, String action, int expectedExit)
      throws Exception {
    Path jobFile = dir.resolve("job.yaml");
    Files.writeString(jobFile, ParityJobManifest.of(lossScaling, action, "before"));
    Path workDir = dir.resolve("work");
    Path log = dir.resolve("mpj-local.log");
    Process local =
        LocalProcess.start(log, "-f", jobFile.toString(), "--work-dir", workDir.toString());
    boolean exited = local.waitFor(8, TimeUnit.MINUTES);
    output = Files.readString(log);
    if (!exited) {
      local.destroyForcibly();
    }
    assertThat(exited).as("mpj local finished; output:%n%s", output).isTrue();
    assertThat(local.exitValue()).as("exit code; output:%n%s", output).isEqualTo(expectedExit);
    assertThat(output).contains("reference  reference parity at step 20");
    return JobFiles.parse(Files.readString(workDir.resolve("job.yaml")));
  }

  private static Condition condition(MixedPrecisionJob job, String type) {
    return job.getStatus().conditions.stream()
        .filter(c -> c.getType().equals(type))
        .findFirst()
        .orElseThrow();
  }
}
