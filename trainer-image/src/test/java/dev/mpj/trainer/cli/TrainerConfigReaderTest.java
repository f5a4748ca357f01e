package dev.mpj.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Defects the fuzzed manifests found in the trainer's {@code --config} reader. */
class TrainerConfigReaderTest {

  @TempDir Path dir;

  private static final String CONFIG =
      """
      apiVersion: mpj.dev/v1alpha1
      kind: TrainerConfig
      jobName: fuzzed
      replicas: 1
      microBatch: 8
      gradientAccumulation: 1
      spec:
        precision: fp32
        model: {architecture: mlp}
        data: {source: synthetic, synthetic: {task: classification, samples: 64, features: 4, classes: 2}}
        training: {globalBatchSize: 8, steps: 1%s}
      """;

  @Test
  void anUnknownFieldOfTheSpecIsNamedByItsPath() throws IOException {
    // gpt2-small.yaml: ADD_FIELD spec.extra: the trainer said "cannot read config.yaml:
    // Unrecognized field "extra" (class dev.mpj.api.MixedPrecisionJobSpec) ..." instead of the
    // field.
    String err = train(CONFIG.formatted(", extra: 1"));
    assertThat(err).contains("spec.training.extra: unknown field \"extra\"");
    assertThat(err).doesNotContain("dev.mpj.api", "Exception");
    assertThat(dir.resolve("out")).doesNotExist();
  }

  @Test
  void aValueOfTheWrongTypeIsNamedByItsPath() throws IOException {
    String err = train(CONFIG.formatted(", seed: [1]"));
    assertThat(err).contains("spec.training.seed");
    assertThat(err).doesNotContain("dev.mpj.api", "Exception");
    assertThat(dir.resolve("out")).doesNotExist();
  }

  private String train(String config) throws IOException {
    Path file = dir.resolve("config.yaml");
    Files.writeString(file, config);
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      int code =
          TrainerCommand.commandLine()
              .execute(
                  "train", "--config", file.toString(), "--output", dir.resolve("out").toString());
      assertThat(code).isEqualTo(2);
    } finally {
      System.setErr(original);
    }
    return captured.toString(StandardCharsets.UTF_8);
  }
}
