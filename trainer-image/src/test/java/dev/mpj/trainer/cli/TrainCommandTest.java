package dev.mpj.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.trainer.data.NpzFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  private String stderr;

  private int train(String... args) {
    PrintStream original = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      String[] all = new String[args.length + 1];
      all[0] = "train";
      System.arraycopy(args, 0, all, 1, args.length);
      return TrainerCommand.commandLine().execute(all);
    } finally {
      System.setErr(original);
      stderr = captured.toString(StandardCharsets.UTF_8);
    }
  }

  private Path job(String precision, String spec) throws IOException {
    Path file = Files.createTempFile(dir, "job", ".yaml");
    Files.writeString(
        file,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: cli-test}
        spec:
          precision: %s
        %s
        """
            .formatted(precision, spec.indent(2)));
    return file;
  }

  private static final String QUICKSTART =
      """
      model:
        architecture: mlp
        mlp: {hiddenSizes: [32, 32], activation: relu}
      data:
        source: synthetic
        synthetic: {task: classification, samples: 1024, features: 32, classes: 8}
        validationFraction: 0.2
      training:
        globalBatchSize: 64
        steps: 40
        optimizer: {type: adam, learningRate: 0.002}
        gradientClipNorm: 1.0
        seed: 0
      parity: {maxRelativeGap: 0.02, intervalSteps: 20, action: warn}
      """;

  @Test
  void trainsAJobAndWritesMetricsAndSummary() throws IOException {
    Path out = dir.resolve("out");
    Path terminationLog = dir.resolve("termination-log");
    assertThat(
            train(
                "-f",
                job("fp16-mixed", QUICKSTART).toString(),
                "--output",
                out.toString(),
                "--termination-message-path",
                terminationLog.toString()))
        .as(stderr)
        .isZero();

    List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
    assertThat(lines).hasSize(40);
    for (int i = 0; i < lines.size(); i++) {
      JsonNode line = JSON.readTree(lines.get(i));
      assertThat(line.get("step").asInt()).isEqualTo(i + 1);
      for (String field :
          List.of(
              "loss",
              "lossScale",
              "overflow",
              "skipped",
              "gradNorm",
              "samplesPerSecond",
              "microBatch",
              "accumulation",
              "healthy")) {
        assertThat(line.has(field)).as("%s in %s", field, line).isTrue();
      }
      assertThat(line.get("microBatch").asInt()).isEqualTo(64);
      assertThat(line.get("accumulation").asInt()).isEqualTo(1);
      assertThat(line.has("parity")).isEqualTo((i + 1) % 20 == 0);
      assertThat(line.get("healthy").asBoolean()).as("step %d", i + 1).isTrue();
      assertThat(line.has("healthReasons")).isFalse();
    }
    JsonNode parity = JSON.readTree(lines.get(19)).get("parity");
    assertThat(parity.get("fp16Loss").asDouble()).isPositive();
    assertThat(parity.get("fp32Loss").asDouble()).isPositive();

    JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
    assertThat(summary.get("precision").asText()).isEqualTo("fp16-mixed");
    assertThat(summary.get("steps").asInt()).isEqualTo(40);
    assertThat(summary.get("skippedSteps").asInt()).isBetween(0, 5);
    assertThat(summary.get("finalLossScale").asDouble()).isPositive();
    assertThat(summary.get("trainLoss").asDouble())
        .isLessThan(JSON.readTree(lines.get(0)).get("loss").asDouble());
    assertThat(summary.get("validation").get("accuracy").asDouble()).isGreaterThan(0.3);
    assertThat(summary.get("parameters").asLong())
        .isEqualTo(32L * 32 + 32 + 32 * 32 + 32 + 32 * 8 + 8);
    assertThat(summary.get("peakRssBytes").asLong()).isGreaterThan(10_000_000L);
    long beforeTraining = summary.get("rssBeforeTrainingBytes").asLong();
    assertThat(beforeTraining).isGreaterThan(10_000_000L);
    // The steps' peak starts from the resident memory before them and never exceeds the run's peak.
    assertThat(summary.get("peakRssTrainingBytes").asLong())
        .isGreaterThanOrEqualTo(beforeTraining)
        .isLessThanOrEqualTo(summary.get("peakRssBytes").asLong());
    // The first step on its own (it pages in libtorch's code and makes the gradients); the later
    // steps from what it leaves resident. The steps' peak is the larger of the two.
    long firstPeak = summary.get("peakRssFirstStepBytes").asLong();
    long afterFirst = summary.get("rssAfterFirstStepBytes").asLong();
    long laterPeak = summary.get("peakRssLaterStepsBytes").asLong();
    assertThat(firstPeak).isGreaterThanOrEqualTo(beforeTraining);
    assertThat(afterFirst).isPositive().isLessThanOrEqualTo(firstPeak);
    assertThat(laterPeak).isGreaterThanOrEqualTo(afterFirst);
    assertThat(summary.get("peakRssTrainingBytes").asLong())
        .isEqualTo(Math.max(firstPeak, laterPeak));
    assertThat(summary.get("fileRssAddedFirstStepBytes").isNumber()).isTrue();
    assertThat(summary.get("fileRssAddedLaterStepsBytes").asLong()).isNotNegative();
    assertThat(summary.get("wallSeconds").asDouble()).isPositive();
    assertThat(summary.has("resumedFromStep")).isTrue();
    assertThat(summary.get("resumedFromStep").isNull()).isTrue();
    assertThat(summary.get("parity").get("step").asInt()).isEqualTo(40);
    assertThat(summary.get("health").get("healthy").asBoolean()).isTrue();
    assertThat(summary.get("health").get("stepsInWindow").asInt()).isEqualTo(40);

    // The final report for the kubelet: the figures of the last metrics line.
    JsonNode lastLine = JSON.readTree(lines.get(lines.size() - 1));
    JsonNode message = JSON.readTree(terminationLog.toFile());
    assertThat(Files.size(terminationLog)).isLessThanOrEqualTo(4096);
    assertThat(message.get("step").asInt()).isEqualTo(40);
    assertThat(message.get("totalSteps").asInt()).isEqualTo(40);
    assertThat(message.get("loss").asDouble()).isEqualTo(lastLine.get("loss").asDouble());
    assertThat(message.get("lossScale").asDouble()).isEqualTo(lastLine.get("lossScale").asDouble());
    assertThat(message.get("skippedSteps").asInt()).isEqualTo(summary.get("skippedSteps").asInt());
    assertThat(message.get("parity").get("step").asInt()).isEqualTo(40);
    assertThat(message.get("health")).isEqualTo(summary.get("health"));
  }

  @Test
  void trainsFromTheOperatorsConfigWithAccumulation() throws IOException {
    Path config = dir.resolve("config.yaml");
    Files.writeString(
        config,
        """
        apiVersion: mpj.dev/v1alpha1
        kind: TrainerConfig
        jobName: from-config
        replicas: 1
        microBatch: 16
        gradientAccumulation: 4
        spec:
          precision: fp32
        %s
        """
            .formatted(
                QUICKSTART
                    .replace("steps: 40", "steps: 5")
                    .replace("action: warn}", "action: warn}")
                    .lines()
                    .filter(l -> !l.startsWith("parity"))
                    .reduce("", (a, b) -> a + b + "\n")
                    .indent(2)));
    Path out = dir.resolve("from-config");
    assertThat(train("--config", config.toString(), "--output", out.toString()))
        .as(stderr)
        .isZero();
    List<String> lines = Files.readAllLines(out.resolve("metrics.jsonl"));
    assertThat(lines).hasSize(5);
    assertThat(JSON.readTree(lines.get(0)).get("accumulation").asInt()).isEqualTo(4);
    assertThat(JSON.readTree(lines.get(0)).get("microBatch").asInt()).isEqualTo(16);
  }

  @Test
  void parityBeyondTheBoundWithActionFailExits3() throws IOException {
    String spec =
        QUICKSTART
            .replace("steps: 40", "steps: 10")
            .replace(
                "parity: {maxRelativeGap: 0.02, intervalSteps: 20, action: warn}",
                "parity: {maxRelativeGap: 0.0, intervalSteps: 5, action: fail}");
    Path out = dir.resolve("parity");
    Path message = dir.resolve("parity-termination-log");
    assertThat(
            train(
                "-f",
                job("fp16-mixed", spec).toString(),
                "--output",
                out.toString(),
                "--termination-message-path",
                message.toString()))
        .as(stderr)
        .isEqualTo(3);
    assertThat(stderr)
        .contains("precision parity failed at step 5")
        .contains("spec.parity.maxRelativeGap");
    assertThat(Files.readAllLines(out.resolve("metrics.jsonl"))).hasSize(5);
    JsonNode last = new ObjectMapper().readTree(message.toFile());
    assertThat(last.get("reason").asText())
        .startsWith("precision parity failed at step 5")
        .contains("spec.parity.maxRelativeGap")
        .doesNotContain("\n");
    assertThat(last.get("step").asLong()).as("the final progress beside the reason").isEqualTo(5);
  }

  @Test
  void trainsFromNpzAndCsvFiles() throws IOException {
    Path npz = dir.resolve("train.npz");
    Random random = new Random(1);
    ByteBuffer x = ByteBuffer.allocate(4 * 64 * 4).order(ByteOrder.LITTLE_ENDIAN);
    ByteBuffer y = ByteBuffer.allocate(8 * 64).order(ByteOrder.LITTLE_ENDIAN);
    StringBuilder csv = new StringBuilder("f0,f1,f2,f3,cls\n");
    for (int i = 0; i < 64; i++) {
      int label = i % 2;
      StringBuilder row = new StringBuilder();
      for (int f = 0; f < 4; f++) {
        float value = (float) (random.nextGaussian() + 2 * label);
        x.putFloat(value);
        row.append(value).append(',');
      }
      y.putLong(label);
      csv.append(row).append(label).append('\n');
    }
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(npz))) {
      NpzFiles.add(zip, "features", "<f4", "(64, 4)", x.array());
      NpzFiles.add(zip, "labels", "<i8", "(64,)", y.array());
    }
    Files.writeString(dir.resolve("train.csv"), csv);
    String model =
        """
        model:
          architecture: mlp
          mlp: {hiddenSizes: [8]}
        training:
          globalBatchSize: 16
          steps: 30
          optimizer: {type: adam, learningRate: 0.02}
        """;
    Path fromNpz = dir.resolve("npz-out");
    String npzJob =
        model
            + "data:\n  source: npz\n  npz: {path: "
            + npz
            + ", features: features, labels: labels}\n";
    assertThat(train("-f", job("fp16-mixed", npzJob).toString(), "--output", fromNpz.toString()))
        .as(stderr)
        .isZero();
    Path fromCsv = dir.resolve("csv-out");
    String csvJob =
        model
            + "data:\n  source: csv\n  csv: {path: "
            + dir.resolve("train.csv")
            + ", labelColumn: cls}\n";
    assertThat(train("-f", job("fp32", csvJob).toString(), "--output", fromCsv.toString()))
        .as(stderr)
        .isZero();
    for (Path out : List.of(fromNpz, fromCsv)) {
      JsonNode summary = JSON.readTree(out.resolve("summary.json").toFile());
      assertThat(summary.get("parameters").asLong()).isEqualTo(4 * 8 + 8 + 8 * 2 + 2);
      assertThat(summary.get("validation").get("accuracy").asDouble())
          .as("two well separated classes")
          .isGreaterThan(0.8);
    }
  }

  @Test
  void missingDataFileIsRefusedNamingThePath() throws IOException {
    assertRefused(job("fp32", csvJob(dir.resolve("absent.csv"), "label")), "spec.data.csv.path");
  }

  @Test
  void missingLabelColumnIsRefusedNamingTheColumn() throws IOException {
    Path csv = dir.resolve("data.csv");
    Files.writeString(csv, "a,b,y\n0.1,0.2,1\n0.3,0.4,0\n0.5,0.6,1\n");
    assertRefused(job("fp32", csvJob(csv, "label")), "spec.data.csv.labelColumn");
  }

  @Test
  void aBadValueInADataFileIsRefusedByItsPlaceBeforeAnythingIsWritten() throws IOException {
    Path csv = dir.resolve("labels.csv");
    Files.writeString(csv, "a,b,label\n0.1,0.2,0\n0.3,0.4,-1\n0.5,0.6,1\n");
    assertRefused(job("fp32", csvJob(csv, "label")), "spec.data.csv.path");
    assertThat(stderr)
        .contains(csv + " line 3, column \"label\": -1 is negative")
        .doesNotContain("Exception");
    Files.writeString(csv, "a,b,label\n0.1,0.2,0.5\n0.3,0.4,-1\n0.5,0.6,1.25\n0.7,0.8,2\n");
    Path out = dir.resolve("regression-out");
    String regression = csvJob(csv, "label").replace("labelColumn: label}", "task: regression}");
    assertThat(train("-f", job("fp32", regression).toString(), "--output", out.toString()))
        .as(stderr)
        .isZero();
    assertThat(stderr).contains("mpj-trainer: data: regression, 4 samples of [2]");
  }

  @Test
  void modelTooSmallForItsInputIsRefused() throws IOException {
    Path npz = dir.resolve("tokens.npz");
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(npz))) {
      byte[] tokens = new byte[4 * 16 * 8];
      NpzFiles.add(zip, "x", "<i8", "(4, 16)", tokens);
      NpzFiles.add(zip, "y", "<i8", "(4, 16)", tokens);
    }
    String spec =
        """
        model:
          architecture: transformer
          transformer: {layers: 1, hiddenSize: 8, heads: 2, vocabSize: 8, sequenceLength: 4}
        data:
          source: npz
          npz: {path: %s}
        training:
          globalBatchSize: 2
          steps: 1
        """
            .formatted(npz);
    assertRefused(job("fp16-mixed", spec), "spec.model.transformer.sequenceLength");
  }

  @Test
  void aJobNameNoApiServerAcceptsIsRefused() throws IOException {
    Path job = job("fp32", QUICKSTART);
    Files.writeString(job, Files.readString(job).replace("name: cli-test", "name: CLI_Test"));
    assertRefused(job, "metadata.name");
  }

  @Test
  void bf16IsRefusedNamingThePrecision() throws IOException {
    assertRefused(
        job(
            "bf16-mixed",
            QUICKSTART.replace(
                "parity: {maxRelativeGap: 0.02, intervalSteps: 20, action: warn}\n", "")),
        "spec.precision");
    assertThat(stderr).contains("BF16");
  }

  @Test
  void anUnexpectedErrorLeavesItsOneLineSummaryAsTheTerminationMessage() throws IOException {
    // 65536 x 65537 values overflow the int index of the synthetic data's array: a defect nobody
    // planned for, which the trainer reports as what it is.
    String spec =
        QUICKSTART
            .replaceAll("features: \\d+", "features: 65537")
            .replaceAll("samples: \\d+", "samples: 65536");
    Path message = dir.resolve("unexpected-termination-log");
    int code =
        train(
            "-f",
            job("fp16-mixed", spec).toString(),
            "--output",
            dir.resolve("unexpected").toString(),
            "--termination-message-path",
            message.toString());
    assertThat(code).as(stderr).isEqualTo(1);
    String reason = new ObjectMapper().readTree(message.toFile()).get("reason").asText();
    assertThat(reason)
        .startsWith("unexpected error: ")
        .doesNotContain("\n")
        .doesNotContain("\tat ");
    assertThat(stderr).contains(reason).contains("\tat ");
  }

  private void assertRefused(Path job, String field) throws IOException {
    Path out = dir.resolve("refused-" + field);
    Path message = dir.resolve("termination-log-" + field);
    assertThat(
            train(
                "-f",
                job.toString(),
                "--output",
                out.toString(),
                "--termination-message-path",
                message.toString()))
        .as(stderr)
        .isEqualTo(2);
    assertThat(stderr).contains(field);
    assertThat(out).doesNotExist();
    assertThat(new ObjectMapper().readTree(message.toFile()).get("reason").asText())
        .as("why, in the replica's termination message")
        .startsWith("invalid job: ")
        .contains(field);
  }

  private static String csvJob(Path csv, String label) {
    return """
        model:
          architecture: mlp
          mlp: {hiddenSizes: [8]}
        data:
          source: csv
          csv: {path: %s, labelColumn: %s}
        training:
          globalBatchSize: 2
          steps: 2
        """
        .formatted(csv, label);
  }
}
