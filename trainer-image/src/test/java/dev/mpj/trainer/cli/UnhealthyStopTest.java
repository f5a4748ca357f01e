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
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance task at the trainer's level: FP16 at a static scale of 1 loses the weight
 * gradients (LossScalingDemonstrationTest's data); with spec.parity.onDivergence rank 0 stops as
 * soon as the health window is full (exit 4, the health in its final report), and the FP32 fallback
 * finishes the job from the last checkpoint.
 */
class UnhealthyStopTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private String stderr;

  private String job(String precision, String extra, Path csv) {
    return """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: unhealthy}
        spec:
          precision: %s
          model:
            architecture: mlp
            mlp: {hiddenSizes: []}
          data:
            source: csv
            csv: {path: %s, labelColumn: target, task: regression}
            validationFraction: 0
          training:
            globalBatchSize: 64
            steps: 40
            optimizer: {type: sgd, learningRate: 0.01}
            seed: 0
          checkpoint: {intervalSteps: 5, keep: 3}
          health: {windowSteps: 10}
        %s
        """
        .formatted(precision, csv, extra.indent(2));
  }

  private int train(String yaml, String... extra) throws IOException {
    Path file = Files.createTempFile(dir, "job", ".yaml");
    Files.writeString(file, yaml);
    List<String> args =
        new ArrayList<>(
            List.of("train", "-f", file.toString(), "--output", dir.resolve("out").toString()));
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

  @Test
  void staticScaleOneStopsAtTheFullWindowAndTheFp32FallbackFinishes() throws IOException {
    Path csv = tinyGradientCsv();
    Path message = dir.resolve("termination-log");
    int exit =
        train(
            job(
                "fp16-mixed",
                "lossScaling: {mode: static, initialScale: 1}\n"
                    + "parity: {onDivergence: fallback-fp32}",
                csv),
            "--termination-message-path",
            message.toString());
    assertThat(exit).as(stderr).isEqualTo(4);
    assertThat(stderr).contains("training unhealthy at step 10 (GradientsUnderflow)");
    JsonNode report = JSON.readTree(message.toFile());
    assertThat(report.get("step").asLong()).isEqualTo(10);
    assertThat(report.at("/health/healthy").asBoolean()).isFalse();
    assertThat(report.at("/health/reasons/0").asText()).isEqualTo("GradientsUnderflow");
    assertThat(Files.exists(dir.resolve("out/summary.json"))).isFalse();

    assertThat(train(job("fp32", "", csv), "--resume-mixed-as-fp32")).as(stderr).isZero();
    assertThat(stderr).contains("resuming from fp16-mixed checkpoint step-00000010");
    JsonNode summary = JSON.readTree(dir.resolve("out/summary.json").toFile());
    assertThat(summary.get("precision").asText()).isEqualTo("fp32");
    assertThat(summary.get("resumedFromStep").asLong()).isEqualTo(10);
    assertThat(summary.get("steps").asLong()).isEqualTo(40);
    assertThat(summary.at("/health/healthy").asBoolean()).isTrue();
  }

  @Test
  void withoutOnDivergenceTheUnhealthyRunGoesOnToTheEnd() throws IOException {
    int exit =
        train(job("fp16-mixed", "lossScaling: {mode: static, initialScale: 1}", tinyGradientCsv()));
    assertThat(exit).as(stderr).isZero();
    JsonNode summary = JSON.readTree(dir.resolve("out/summary.json").toFile());
    assertThat(summary.at("/health/healthy").asBoolean()).isFalse();
    assertThat(summary.at("/health/reasons/0").asText()).isEqualTo("GradientsUnderflow");
  }

  private Path tinyGradientCsv() throws IOException {
    Path csv = dir.resolve("tiny.csv");
    StringBuilder text = new StringBuilder("a,b,c,d,e,f,g,h,target\n");
    Random random = new Random(3);
    for (int row = 0; row < 256; row++) {
      for (int f = 0; f < 8; f++) {
        text.append((0.3 + 0.3 * random.nextDouble()) * 1e-4).append(',');
      }
      text.append((random.nextDouble() + 0.5) * 1e-5).append('\n');
    }
    Files.writeString(csv, text);
    return csv;
  }
}
