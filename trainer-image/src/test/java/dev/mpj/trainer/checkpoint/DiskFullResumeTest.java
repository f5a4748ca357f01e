package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trainer process whose checkpoint volume is full for some checkpoints ({@code
 * -Dmpj.checkpoint.diskFull}, the stand-in for ENOSPC: no root, no tmpfs): it says why, trains on,
 * writes the next checkpoint once space is back, and a resume uses the newest whole checkpoint and
 * ends bit-identical to a run that never met a full disk.
 */
class DiskFullResumeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STEPS = 40;

  @TempDir Path dir;

  @Test
  void aFullDiskCostsCheckpointsNotTheRunAndAResumeUsesTheNewestWholeOne() throws Exception {
    Path job = dir.resolve("job.yaml");
    Files.writeString(job, TinyJobs.job("mlp", "fp32", STEPS, 10));
    Path whole = dir.resolve("uninterrupted");
    TrainerProcess uninterrupted = TrainerProcess.start(job, whole);

    // Full for the checkpoints of steps 20 and 40 (the last), after 4 KiB of each: 10 and 30 fit.
    Path out = dir.resolve("full");
    TrainerProcess first =
        TrainerProcess.start(List.of("-D" + DiskFullFault.PROPERTY + "=20,40@4096"), job, out);
    assertThat(first.waitFor(180)).as(first.log()).isZero();
    String log = first.log();
    assertThat(log)
        .contains("checkpoint step-00000020 not written: ")
        .contains("checkpoint step-00000040 not written: ")
        .contains(
            "No space left on device; training goes on, the newest checkpoint is step-00000010")
        .contains("the newest checkpoint is step-00000030");
    JsonNode failedLine =
        lines(out).stream().filter(l -> l.has("checkpointFailed")).findFirst().orElseThrow();
    assertThat(failedLine.get("checkpointFailed").get("folder").asText())
        .isEqualTo("step-00000020");
    assertThat(failedLine.get("checkpointFailed").get("reason").asText())
        .endsWith("No space left on device");
    JsonNode checkpoints = JSON.readTree(out.resolve("summary.json").toFile()).get("checkpoints");
    assertThat(checkpoints.get("written").asInt()).isEqualTo(2);
    assertThat(checkpoints.get("failedForSpace").asInt()).isEqualTo(2);
    assertThat(lines(out)).hasSize(STEPS);

    Path folder = out.resolve("checkpoints");
    try (var names = Files.list(folder)) {
      assertThat(names.map(p -> p.getFileName().toString()))
          .containsExactlyInAnyOrder("step-00000010", "step-00000030", CheckpointWriter.LATEST);
    }
    assertThat(CheckpointReader.newestWhole(folder, m -> {}).state().step()).isEqualTo(30);

    // Space is back: the run again on the same folder resumes from 30 and writes 40.
    TrainerProcess second = TrainerProcess.start(job, out);
    assertThat(second.waitFor(180)).as(second.log()).isZero();
    assertThat(second.log()).contains("resuming from checkpoint step-00000030");
    assertThat(second.log()).doesNotContain("not written");
    assertThat(uninterrupted.waitFor(180)).as(uninterrupted.log()).isZero();
    String last = CheckpointWriter.folderName(STEPS);
    for (String file : List.of(CheckpointWriter.MODEL, CheckpointWriter.OPTIMIZER)) {
      assertThat(Files.readAllBytes(folder.resolve(last).resolve(file)))
          .as(file + " after the full disk and the resume")
          .isEqualTo(Files.readAllBytes(whole.resolve("checkpoints").resolve(last).resolve(file)));
    }
  }

  private static List<JsonNode> lines(Path output) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(output.resolve("metrics.jsonl"))) {
      out.add(JSON.readTree(line));
    }
    return out;
  }
}
