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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reference parity with schedule beside through the whole system, on the quick-start's data (the
 * job of {@link LocalReferenceParityTest}: one replica, 30 steps, compared at step 20): the FP32
 * reference trains as a second gang of its own pods at the same time as the job's fp16-mixed gang,
 * each reports its figures at step 20, and the operator compares. A healthy mixed run passes; one
 * whose loss scale overflows FP16 on every step fails parity with reason ParityExceeded. Both mpj
 * local runs start at once, to keep the suite's time down.
 */
class LocalBesideParityTest {
  @TempDir static Path dir;

  private static Run passing;
  private static Run failing;

  /** One mpj local run: its exit code, output and the job with its final status. */
  private record Run(int exit, String output, MixedPrecisionJob job, Path workDir) {
    Path checkpoints() {
      return workDir.resolve("volumes/default-parity-checkpoints");
    }
  }

  @BeforeAll
  static void runBothAtOnce() throws Exception {
    Started pass = start("passing", "", "warn");
    Started fail =
        start(
            "failing",
            "lossScaling: {mode: dynamic, initialScale: 16777216, minScale: 16777216}",
            "fail");
    passing = pass.await();
    failing = fail.await();
  }

  @Test
  void aHealthyMixedRunPassesAgainstTheReferenceTrainingBesideIt() throws Exception {
    MixedPrecisionJob job = passing.job();
    assertThat(passing.exit()).as("exit code; output:%n%s", passing.output()).isZero();
    ReferenceParityStatus r = job.getStatus().parity.reference;
    assertThat(job.getStatus().phase).isEqualTo(JobPhase.Succeeded);
    assertThat(job.getStatus().attempt).as("one attempt of the job's own gang").isEqualTo(1);
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
    assertThat(r.gang.phase).as("the reference gang's own status").isEqualTo(JobPhase.Succeeded);
    assertThat(r.gang.attempt).isEqualTo(1);
    assertThat(r.gang.restarts).isZero();
    assertThat(condition(job, "PrecisionParity").getReason()).isEqualTo("ReferenceParityPassed");
    assertThat(passing.output())
        .contains(
            "event    ReferenceStarted: FP32 reference gang: attempt 1",
            "event    ReferenceParityPassed",
            "reference  reference parity at step 20",
            "ref gang   FP32 reference gang beside the job's: Succeeded, attempt 1, restarts 0");
    assertThat(passing.workDir().resolve("pods/parity-worker-0-reference-attempt-1"))
        .as("the reference gang's pod, named apart from the job's")
        .isDirectory();
    assertThat(passing.workDir().resolve("pods/parity-worker-0-attempt-1")).isDirectory();
    assertThat(passing.checkpoints().resolve("reference-fp32/step-00000020"))
        .as("the reference keeps its own checkpoints")
        .isDirectory();
    assertThat(passing.checkpoints().resolve("step-00000030")).isDirectory();
    assertThat(
            Files.readString(
                passing.workDir().resolve("pods/parity-worker-0-reference-attempt-1/log.txt")))
        .as("the reference gang trained in FP32 for the compared steps")
        .contains("parity, fp32, ", " 20 steps, ");
    Path html = dir.resolve("report.html");
    assertThat(
            dev.mpj.cli.MpjCommand.commandLine()
                .execute(
                    "report", "--work-dir", passing.workDir().toString(), "-o", html.toString()))
        .isZero();
    assertThat(Files.readString(html)).contains("PASSED", "(fp32 reference) vs");
  }

  @Test
  void aScaleThatOverflowsEveryStepFailsParityBesideTheReference() {
    MixedPrecisionJob job = failing.job();
    assertThat(failing.exit()).as("exit code; output:%n%s", failing.output()).isEqualTo(1);
    ReferenceParityStatus r = job.getStatus().parity.reference;
    assertThat(job.getStatus().phase).isEqualTo(JobPhase.Failed);
    assertThat(condition(job, "Failed").getReason()).isEqualTo("ParityExceeded");
    assertThat(condition(job, "Failed").getMessage())
        .contains("spec.parity.reference.action is fail", "checkpoints kept");
    assertThat(condition(job, "PrecisionParity").getStatus()).isEqualTo("False");
    assertThat(r.phase).isEqualTo("Compared");
    assertThat(r.withinBounds).isFalse();
    assertThat(r.exceeded).contains("maxAccuracyDrop");
    assertThat(r.accuracyDropPoints).isGreaterThan(2.0);
    assertThat(failing.output()).contains("event    ParityExceeded");
    assertThat(failing.checkpoints().resolve("step-00000010"))
        .as("a failed job keeps its checkpoints")
        .isDirectory();
  }

  /** A started mpj local run. */
  private record Started(Process process, Path log, Path workDir) {
    Run await() throws Exception {
      boolean exited = process.waitFor(8, TimeUnit.MINUTES);
      String output = Files.readString(log);
      if (!exited) {
        process.destroyForcibly();
      }
      assertThat(exited).as("mpj local finished; output:%n%s", output).isTrue();
      MixedPrecisionJob job = JobFiles.parse(Files.readString(workDir.resolve("job.yaml")));
      return new Run(process.exitValue(), output, job, workDir);
    }
  }

  private static Started start(String name, String lossScaling, String action) throws Exception {
    Path case_ = Files.createDirectories(dir.resolve(name));
    Path jobFile = case_.resolve("job.yaml");
    Files.writeString(jobFile, ParityJobManifest.of(lossScaling, action, "beside"));
    Path workDir = case_.resolve("work");
    Path log = case_.resolve("mpj-local.log");
    Process local =
        LocalProcess.start(log, "-f", jobFile.toString(), "--work-dir", workDir.toString());
    return new Started(local, log, workDir);
  }

  private static Condition condition(MixedPrecisionJob job, String type) {
    return job.getStatus().conditions.stream()
        .filter(c -> c.getType().equals(type))
        .findFirst()
        .orElseThrow();
  }
}
