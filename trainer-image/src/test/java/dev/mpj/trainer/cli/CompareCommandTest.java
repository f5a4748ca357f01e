package dev.mpj.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reference parity from output folders: an FP32 reference, a healthy fp16-mixed candidate and a
 * broken one (its minimum loss scale overflows FP16 on every step, so nothing is learned).
 */
class CompareCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String SPEC =
      """
      model:
        architecture: mlp
        mlp: {hiddenSizes: [32, 32], activation: relu}
      data:
        source: synthetic
        synthetic: {task: classification, samples: 2048, features: 32, classes: 8}
        validationFraction: 0.2
      training:
        globalBatchSize: 64
        steps: 120
        optimizer: {type: adam, learningRate: 0.002}
        gradientClipNorm: 1.0
        seed: 0
      """;

  @TempDir static Path dir;
  private static String out;
  private static String err;

  @BeforeAll
  static void threeRuns() throws IOException {
    assertThat(train("fp32", "", "reference")).isZero();
    assertThat(train("fp16-mixed", "", "mixed")).isZero();
    assertThat(
            train(
                "fp16-mixed",
                "lossScaling: {mode: dynamic, initialScale: 16777216, minScale: 16777216}\n",
                "broken"))
        .isZero();
  }

  private static int train(String precision, String extra, String folder) throws IOException {
    Path job = dir.resolve(folder + ".yaml");
    Files.writeString(
        job,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: compare}
        spec:
          precision: %s
        %s
        """
            .formatted(precision, (extra + SPEC).indent(2)));
    return run("train", "-f", job.toString(), "--output", dir.resolve(folder).toString());
  }

  private static int run(String... args) {
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    ByteArrayOutputStream e = new ByteArrayOutputStream();
    System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
    try {
      return TrainerCommand.commandLine().execute(args);
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
      out = o.toString(StandardCharsets.UTF_8);
      err = e.toString(StandardCharsets.UTF_8);
    }
  }

  private static int compare(String candidate, String... extra) {
    String[] args = new String[6 + extra.length];
    args[0] = "compare";
    args[1] = "--reference";
    args[2] = dir.resolve("reference").toString();
    args[3] = "--candidate";
    args[4] = dir.resolve(candidate).toString();
    args[5] = "--json";
    System.arraycopy(extra, 0, args, 6, extra.length);
    return run(args);
  }

  @Test
  void aHealthyMixedRunReportsBothAccuraciesAndPasses() throws IOException {
    assertThat(compare("mixed", "--action", "fail")).as(err).isZero();
    JsonNode r = JSON.readTree(out);
    assertThat(r.at("/reference/precision").asText()).isEqualTo("fp32");
    assertThat(r.at("/candidate/precision").asText()).isEqualTo("fp16-mixed");
    assertThat(r.at("/reference/validationAccuracy").asDouble()).isGreaterThan(0.3);
    assertThat(r.at("/candidate/validationAccuracy").asDouble()).isGreaterThan(0.3);
    assertThat(r.at("/withinBounds").asBoolean()).isTrue();
    assertThat(r.at("/window/to").asLong()).isEqualTo(120);
    assertThat(r.at("/window/from").asLong()).isEqualTo(71);
  }

  @Test
  void aMixedRunWhoseEveryStepOverflowsFailsParity() throws IOException {
    assertThat(compare("broken", "--action", "fail")).isEqualTo(3);
    JsonNode r = JSON.readTree(out);
    assertThat(r.at("/withinBounds").asBoolean()).isFalse();
    assertThat(r.at("/accuracyDropPoints").asDouble()).isGreaterThan(10);
    assertThat(r.at("/exceeded").toString()).contains("maxAccuracyDrop", "training loss");
    assertThat(compare("broken")).as("warn reports and exits 0").isZero();
    assertThat(JSON.readTree(out).at("/withinBounds").asBoolean()).isFalse();
  }

  @Test
  void aFolderWithoutARunIsRefusedWithTheOptionsName() {
    assertThat(
            run(
                "compare",
                "--reference",
                dir.resolve("reference").toString(),
                "--candidate",
                dir.resolve("nothing").toString()))
        .isEqualTo(2);
    assertThat(err).contains("--candidate", "summary.json");
  }
}
