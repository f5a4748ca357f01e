package dev.mpj.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobFiles;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code mpj local} with real trainer processes: a job whose data file does not exist fails at
 * once, and the final status says which file, as the job's status and its Warning Event do.
 */
class LocalFailureReasonTest {

  @Test
  void aMissingDataFileFailsTheJobAndTheFinalStatusNamesIt(@TempDir Path dir) throws Exception {
    Path missing = dir.resolve("data").resolve("missing.csv");
    String manifest =
        Files.readString(LocalProcess.ROOT.resolve("docs/examples/quickstart.yaml"))
            .replace("name: quickstart", "name: bad-data")
            .replace(
                "source: synthetic\n"
                    + "    synthetic: {task: classification, samples: 4096, features: 32, classes: 8}",
                "source: csv\n    csv: {path: " + missing + "}");
    assertThat(manifest).contains("source: csv");
    Path job = dir.resolve("bad-data.yaml");
    Files.writeString(job, manifest);
    Path workDir = dir.resolve("work");
    Path log = dir.resolve("mpj-local.log");

    Process local = LocalProcess.start(log, "-f", job.toString(), "--work-dir", workDir.toString());
    boolean exited = local.waitFor(5, TimeUnit.MINUTES);
    String output = Files.readString(log);
    if (!exited) {
      local.destroyForcibly();
    }
    assertThat(exited).as("mpj local finished; output:%n%s", output).isTrue();
    assertThat(local.exitValue()).as("exit code; output:%n%s", output).isEqualTo(1);

    String reason = "invalid job: spec.data.csv.path: file not found: " + missing;
    MixedPrecisionJob finished = JobFiles.parse(Files.readString(workDir.resolve("job.yaml")));
    assertThat(finished.getStatus().phase).isEqualTo(JobPhase.Failed);
    assertThat(finished.getStatus().restarts).as("a refused config is not retried").isZero();
    assertThat(finished.getStatus().conditions)
        .filteredOn(c -> c.getType().equals("Failed") || c.getType().equals("Stalled"))
        .hasSize(2)
        .allSatisfy(c -> assertThat(c.getMessage()).contains(reason).doesNotContain("\n"));
    assertThat(output)
        .as("the Warning Event and the final status")
        .contains("event    InvalidConfig: job failed: pod bad-data-worker-")
        .containsPattern(
            "bad-data: Failed \\(pod bad-data-worker-\\d failed: exit code 2 .*"
                + java.util.regex.Pattern.quote(reason)
                + "\\)");
  }
}
