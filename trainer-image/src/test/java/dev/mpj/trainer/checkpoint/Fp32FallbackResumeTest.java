package dev.mpj.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.trainer.cli.TrainerCommand;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's half of the FP32 fallback: an fp32 run of the same model resumes from an fp16-mixed
 * run's checkpoint only when asked to (--resume-mixed-as-fp32), and then goes on from where the
 * mixed run was, in FP32.
 */
class Fp32FallbackResumeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String JOB =
      """
      apiVersion: mpj.dev/v1alpha1
      kind: MixedPrecisionJob
      metadata: {name: fallback}
      spec:
        precision: %s
        model:
          architecture: mlp
          mlp: {hiddenSizes: [32, 32], activation: relu}
        data:
          source: synthetic
          synthetic: {task: classification, samples: 1024, features: 16, classes: 4}
          validationFraction: 0.2
        training:
          globalBatchSize: 32
          steps: %d
          optimizer: {type: adam, learningRate: 0.002}
          seed: 0
        checkpoint: {intervalSteps: 10, keep: 3}
      """;

  @TempDir Path dir;
  private Path out;
  private String stderr;

  private int train(String precision, int steps, String... extra) throws IOException {
    Path job = dir.resolve(precision + "-" + steps + ".yaml");
    Files.writeString(job, JOB.formatted(precision, steps));
    List<String> args = new ArrayList<>(List.of("train", "-f", job.toString(), "--output"));
    args.add(out.toString());
    args.addAll(List.of(extra));
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      return TrainerCommand.commandLine().execute(args.toArray(String[]::new));
    } finally {
      System.setErr(original);
      stderr = captured.toString(StandardCharsets.UTF_8);
    }
  }

  @BeforeEach
  void aMixedRunOfTwentySteps() throws IOException {
    out = dir.resolve("out");
    assertThat(train("fp16-mixed", 20)).as(stderr).isZero();
  }

  @Test
  void withoutTheFlagAnFp32RunRefusesTheMixedCheckpointAndChangesNothing() throws IOException {
    List<Path> before = CheckpointReader.checkpointFolders(out.resolve("checkpoints"));
    assertThat(train("fp32", 40)).isEqualTo(2);
    assertThat(stderr).contains("spec.model", "refusing to resume");
    assertThat(CheckpointReader.checkpointFolders(out.resolve("checkpoints"))).isEqualTo(before);
  }

  @Test
  void withTheFlagTheFp32RunGoesOnFromTheMixedCheckpointInFp32() throws Exception {
    List<JsonNode> mixed = lines();
    assertThat(train("fp32", 40, "--resume-mixed-as-fp32")).as(stderr).isZero();
    assertThat(stderr).contains("resuming from fp16-mixed checkpoint step-00000020");

    JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
    assertThat(summary.get("precision").asText()).isEqualTo("fp32");
    assertThat(summary.get("resumedFromStep").asLong()).isEqualTo(20);
    assertThat(summary.get("steps").asLong()).isEqualTo(40);
    assertThat(summary.get("finalLossScale").asDouble()).isEqualTo(1.0);

    List<JsonNode> all = lines();
    assertThat(all).hasSize(40);
    assertThat(all.subList(0, 20)).as("the mixed run's lines are kept").isEqualTo(mixed);
    assertThat(all.subList(20, 40))
        .allSatisfy(l -> assertThat(l.get("lossScale").asDouble()).isEqualTo(1.0));
    // Nothing learned is lost: the first FP32 step is about as good as the last mixed ones, far
    // below where training started.
    double start = mixed.get(0).get("loss").asDouble();
    double lastMixed = mean(mixed.subList(15, 20));
    double firstFp32 = mean(all.subList(20, 25));
    assertThat(lastMixed).isLessThan(0.8 * start);
    assertThat(firstFp32).isLessThan(0.8 * start).isLessThan(lastMixed * 1.2);

    CheckpointState newest =
        CheckpointReader.load(out.resolve("checkpoints").resolve("step-00000040")).state();
    assertThat(newest.precision()).as("checkpoints from now on are FP32").isEqualTo("fp32");
  }

  @Test
  void theFlagOnAMixedJobIsRefusedWithItsName() throws IOException {
    assertThat(train("fp16-mixed", 40, "--resume-mixed-as-fp32")).isEqualTo(2);
    assertThat(stderr).contains("--resume-mixed-as-fp32", "must be fp32");
  }

  private List<JsonNode> lines() throws IOException {
    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
      lines.add(JSON.readTree(line));
    }
    return lines;
  }

  private static double mean(List<JsonNode> lines) {
    return lines.stream().mapToDouble(l -> l.get("loss").asDouble()).average().orElseThrow();
  }
}
