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
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance of fault handling at resume: a damaged newest checkpoint is passed over for the
 * previous one, and the trainer says so; a checkpoint of another model is refused with exit 2 and
 * nothing changed.
 */
class CheckpointRecoveryTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String JOB =
      """
      apiVersion: mpj.dev/v1alpha1
      kind: MixedPrecisionJob
      metadata: {name: recovery}
      spec:
        precision: fp32
        model:
          architecture: mlp
          mlp: {hiddenSizes: [32, %d], activation: relu, dropout: 0.1}
        data:
          source: synthetic
          synthetic: {task: classification, samples: 1024, features: 16, classes: 4}
          validationFraction: 0.2
        training:
          globalBatchSize: 32
          steps: 30
          optimizer: {type: adam, learningRate: 0.002}
          seed: 0
        checkpoint: {intervalSteps: 10, keep: 3}
      """;

  @TempDir Path dir;
  private Path out;
  private Path checkpoints;
  private byte[] finalModel;
  private String stderr;

  private int train(int secondHidden) throws IOException {
    Path job = dir.resolve("job-" + secondHidden + ".yaml");
    Files.writeString(job, JOB.formatted(secondHidden));
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      return TrainerCommand.commandLine()
          .execute("train", "-f", job.toString(), "--output", out.toString());
    } finally {
      System.setErr(original);
      stderr = captured.toString(StandardCharsets.UTF_8);
    }
  }

  @BeforeEach
  void aFinishedRun() throws IOException {
    out = dir.resolve("out");
    checkpoints = out.resolve("checkpoints");
    assertThat(train(32)).as(stderr).isZero();
    assertThat(CheckpointReader.checkpointFolders(checkpoints)).hasSize(3);
    finalModel =
        Files.readAllBytes(checkpoints.resolve("step-00000030").resolve(CheckpointWriter.MODEL));
  }

  @Test
  void aFlippedByteInTheNewestCheckpointResumesFromThePreviousOne() throws IOException {
    Path model = checkpoints.resolve("step-00000030").resolve(CheckpointWriter.MODEL);
    byte[] bytes = Files.readAllBytes(model);
    bytes[bytes.length - 5] ^= 0x10;
    Files.write(model, bytes);

    assertThat(train(32)).as(stderr).isZero();
    assertThat(stderr)
        .contains(
            "checkpoint step-00000030 is damaged (model.safetensors: CRC32C",
            "resuming from checkpoint step-00000020");
    assertResumedFrom20AndRewroteStep30();
  }

  @Test
  void aTruncatedFileInTheNewestCheckpointResumesFromThePreviousOne() throws IOException {
    Path optimizer = checkpoints.resolve("step-00000030").resolve(CheckpointWriter.OPTIMIZER);
    byte[] bytes = Files.readAllBytes(optimizer);
    Files.write(optimizer, Arrays.copyOf(bytes, bytes.length / 2));

    assertThat(train(32)).as(stderr).isZero();
    assertThat(stderr)
        .contains(
            "checkpoint step-00000030 is damaged (optimizer.safetensors: CRC32C",
            "resuming from checkpoint step-00000020");
    assertResumedFrom20AndRewroteStep30();
  }

  private void assertResumedFrom20AndRewroteStep30() throws IOException {
    JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
    assertThat(summary.get("resumedFromStep").asLong()).isEqualTo(20);
    assertThat(summary.at("/checkpoints/damagedSkipped/0").asText()).contains("step-00000030");
    assertThat(Files.readAllLines(out.resolve("metrics.jsonl"))).hasSize(30);
    assertThat(
            Files.readAllBytes(
                checkpoints.resolve("step-00000030").resolve(CheckpointWriter.MODEL)))
        .as("the redone steps give the same weights")
        .isEqualTo(finalModel);
  }

  @Test
  void aCheckpointOfAnotherModelIsRefusedWithExit2AndNothingChanged() throws IOException {
    Map<String, String> before = contents(out);
    assertThat(train(48)).isEqualTo(2);
    assertThat(stderr)
        .contains("spec.model", "step-00000030", "different model", "refusing to resume");
    assertThat(contents(out)).isEqualTo(before);
  }

  /** Every file under {@code root}: its bytes' hash and modification time. */
  private static Map<String, String> contents(Path root) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (var paths = Files.walk(root)) {
      for (Path p : paths.toList()) {
        String entry =
            Files.isDirectory(p)
                ? "dir"
                : Checksums.sha256(p) + " " + Files.getLastModifiedTime(p).toMillis();
        m.put(root.relativize(p).toString(), entry);
      }
    }
    return m;
  }
}
