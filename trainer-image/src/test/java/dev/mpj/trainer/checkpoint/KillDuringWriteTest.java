package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trainer killed in the middle of writing a checkpoint ({@code -Dmpj.checkpoint.killDuringWrite},
 * the chaos hook: halted after the model file, before the optimizer file and state.json) leaves a
 * half-written folder that is never read; the run again resumes from the checkpoint before, writes
 * the interrupted one, and ends bit-identical to an uninterrupted run.
 */
class KillDuringWriteTest {
  private static final int STEPS = 30;

  @TempDir Path dir;

  @Test
  void aKillDuringACheckpointWriteResumesFromThePreviousOne() throws Exception {
    Path job = dir.resolve("job.yaml");
    Files.writeString(job, TinyJobs.job("mlp", "fp32", STEPS, 10));
    Path whole = dir.resolve("uninterrupted");
    TrainerProcess uninterrupted = TrainerProcess.start(job, whole);

    Path out = dir.resolve("killed");
    List<String> hook = List.of("-D" + KillDuringWrite.PROPERTY + "=20");
    TrainerProcess first = TrainerProcess.start(hook, job, out);
    assertThat(first.waitFor(180)).as(first.log()).isEqualTo(KillDuringWrite.SIGKILL_EXIT);
    assertThat(first.log()).contains("in the middle of writing step-00000020");
    Path folder = out.resolve("checkpoints");
    Path partial = folder.resolve(".tmp-step-00000020");
    assertThat(partial.resolve(CheckpointWriter.MODEL)).exists();
    assertThat(partial.resolve(CheckpointState.FILE)).doesNotExist();
    assertThat(CheckpointReader.newestWhole(folder, m -> {}).state().step()).isEqualTo(10);
    assertThat(Files.exists(out.resolve("summary.json"))).isFalse();

    // The same hook again: the marker says it happened, so the resumed run writes step 20.
    TrainerProcess second = TrainerProcess.start(hook, job, out);
    assertThat(second.waitFor(180)).as(second.log()).isZero();
    assertThat(second.log()).contains("resuming from checkpoint step-00000010");
    assertThat(partial).doesNotExist();
    assertThat(uninterrupted.waitFor(180)).as(uninterrupted.log()).isZero();
    String last = CheckpointWriter.folderName(STEPS);
    for (String file : List.of(CheckpointWriter.MODEL, CheckpointWriter.OPTIMIZER)) {
      assertThat(Files.readAllBytes(folder.resolve(last).resolve(file)))
          .as(file + " after the kill during a write and the resume")
          .isEqualTo(Files.readAllBytes(whole.resolve("checkpoints").resolve(last).resolve(file)));
    }
  }
}
