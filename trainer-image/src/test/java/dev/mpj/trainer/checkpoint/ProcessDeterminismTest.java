package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The same job run three times, in three trainer processes at once, ends with the same weights and
 * optimizer state bit for bit, and every step reports the same loss, gradient norm, loss scale and
 * skip. The third process runs with another garbage collector and a 1 MiB young generation, so that
 * collections happen many times a step and at other moments than in the first two: issue 22's
 * overflow came from memory that a collection freed between forward and backward.
 */
class ProcessDeterminismTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int STEPS = 24;
  private static final List<String> COLLECTING_OFTEN = List.of("-XX:+UseSerialGC", "-Xmn1m");

  @TempDir Path dir;

  @ParameterizedTest(name = "{0} in {1}")
  @CsvSource({
    "mlp, fp32",
    "mlp, fp16-mixed",
    "cnn, fp32",
    "cnn, fp16-mixed",
    "transformer, fp32",
    "transformer, fp16-mixed"
  })
  void threeProcessesEndWithTheSameBitsAndSkipTheSameSteps(String architecture, String precision)
      throws Exception {
    Path job = dir.resolve("job.yaml");
    Files.writeString(job, TinyJobs.job(architecture, precision, STEPS, STEPS));
    List<TrainerProcess> runs = new ArrayList<>();
    for (int run = 0; run < 3; run++) {
      runs.add(
          TrainerProcess.start(
              run == 2 ? COLLECTING_OFTEN : List.of(), job, dir.resolve("run-" + run)));
    }
    for (TrainerProcess run : runs) {
      assertThat(run.waitFor(300)).as(run.log()).isZero();
    }

    Path first = runs.get(0).output;
    List<JsonNode> reference = steps(first);
    assertThat(reference).hasSize(STEPS);
    List<Long> skipped = skippedSteps(reference);
    if (precision.equals("fp16-mixed")) {
      assertThat(skipped).as("the loss scale of 2^24 overflows at first").contains(1L);
    } else {
      assertThat(skipped).isEmpty();
    }
    String last = CheckpointWriter.folderName(STEPS);
    for (TrainerProcess run : runs.subList(1, 3)) {
      for (String file : List.of(CheckpointWriter.MODEL, CheckpointWriter.OPTIMIZER)) {
        assertThat(
                Files.readAllBytes(run.output.resolve("checkpoints").resolve(last).resolve(file)))
            .as("%s of %s against %s", file, run.output.getFileName(), first.getFileName())
            .isEqualTo(
                Files.readAllBytes(first.resolve("checkpoints").resolve(last).resolve(file)));
      }
      assertThat(steps(run.output)).as("steps of " + run.output.getFileName()).isEqualTo(reference);
    }
  }

  /** metrics.jsonl without the throughput and the checkpoint's timings, which may differ. */
  private static List<JsonNode> steps(Path output) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : Files.readAllLines(output.resolve("metrics.jsonl"))) {
      ObjectNode step = (ObjectNode) JSON.readTree(line);
      step.remove("samplesPerSecond");
      step.remove("checkpoint");
      out.add(step);
    }
    return out;
  }

  private static List<Long> skippedSteps(List<JsonNode> steps) {
    return steps.stream()
        .filter(s -> s.get("skipped").asBoolean())
        .map(s -> s.get("step").asLong())
        .toList();
  }
}
