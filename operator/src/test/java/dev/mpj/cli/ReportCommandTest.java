package dev.mpj.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.mpj.cli.report.RunData;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * mpj report from an mpj local work dir: the job's status and the report data rank 0 leaves beside
 * the checkpoints (here written by the test in the trainer's formats: an FP32 reference of 40 steps
 * and a mixed run of 60 with a few skipped steps, resumed once at step 30). The HTML is one
 * self-contained file whose charts are PNG images; headless Chromium, where installed, renders it
 * and the charts' colours show in the screenshot.
 */
class ReportCommandTest {
  private static final int FP32_RGB = 0x1f77b4;
  private static final int MIXED_RGB = 0xd62728;

  @TempDir Path dir;

  private Path workDir() throws IOException {
    Path work = dir.resolve("work");
    Path volume = work.resolve("volumes/default-parity-checkpoints");
    Files.createDirectories(volume.resolve("report"));
    Files.createDirectories(volume.resolve("reference-fp32/report"));
    Files.writeString(
        volume.resolve("reference-fp32/report/metrics.jsonl"), metrics(1, 40, 1.0, false, 0));
    // The mixed run: attempt 1 to step 35, resumed from the checkpoint of step 30 to step 60.
    Files.writeString(
        volume.resolve("report/metrics.jsonl"),
        metrics(1, 35, 65536, true, 0) + metrics(31, 60, 65536, true, 0.01));
    Files.writeString(
        volume.resolve("report/summary.json"),
        """
        {"precision":"fp16-mixed","steps":60,"validation":{"loss":0.70,"accuracy":0.79}}
        """);
    Files.writeString(
        volume.resolve("reference-fp32/report/summary.json"),
        """
        {"precision":"fp32","steps":40,"validation":{"loss":1.016,"accuracy":0.669}}
        """);
    Files.writeString(
        work.resolve("job.yaml"),
        """
        apiVersion: mpj.dev/v1alpha1
        kind: MixedPrecisionJob
        metadata: {name: parity, namespace: default}
        spec:
          precision: fp16-mixed
          model: {architecture: mlp, mlp: {hiddenSizes: [32]}}
          data:
            source: synthetic
            synthetic: {task: classification, samples: 4096, features: 32, classes: 8}
          training: {globalBatchSize: 64, steps: 60}
          checkpoint: {volume: {size: 1Gi}}
          parity: {reference: {steps: 40}}
        status:
          phase: Succeeded
          message: "training finished: rank 0 finished training"
          report: {claimName: parity-checkpoints, path: report, referencePath: reference-fp32/report}
          sizing:
            gpusSaved: 2
            fp32: {precision: fp32, replicas: 4, gpus: 4, microBatch: 16, gradientAccumulation: 1, bytesPerReplica: 12884901888}
            plan: {precision: fp16-mixed, replicas: 2, gpus: 2, microBatch: 32, gradientAccumulation: 1, bytesPerReplica: 7516192768}
          parity:
            reference:
              phase: Compared
              step: 40
              reference: {run: reference, precision: fp32, step: 40, validationLoss: 1.016, validationAccuracy: 0.669, trainingLoss: 1.354}
              candidate: {run: job, precision: fp16-mixed, step: 40, validationLoss: 1.017, validationAccuracy: 0.668, trainingLoss: 1.355}
              accuracyDropPoints: 0.1
              validationLossGap: 0.001
              trainingLossGap: 0.0007
              withinBounds: true
              exceeded: []
              message: "reference parity at step 40: within bounds"
        """);
    return work;
  }

  /** metrics.jsonl lines: a falling loss; every 9th step of a mixed run skipped (scale halved). */
  private static String metrics(int from, int to, double scale, boolean mixed, double offset) {
    StringBuilder b = new StringBuilder();
    for (int step = from; step <= to; step++) {
      boolean skipped = mixed && step % 9 == 0;
      b.append(
          String.format(
              Locale.ROOT,
              "{\"step\":%d,\"loss\":%.4f,\"lossScale\":%.1f,\"overflow\":%b,\"skipped\":%b}%n",
              step,
              3.0 / Math.sqrt(step) + offset,
              skipped ? scale / 2 : scale,
              skipped,
              skipped));
    }
    return b.toString();
  }

  private static int run(String... args) {
    CommandLine cli = MpjCommand.commandLine();
    cli.setOut(new PrintWriter(new ByteArrayOutputStream()));
    cli.setErr(new PrintWriter(new ByteArrayOutputStream()));
    return cli.execute(args);
  }

  @Test
  void aResumedRunKeepsTheLastLineOfEachStep() throws IOException {
    Path work = workDir();
    RunData mixed =
        RunData.read(work.resolve("volumes/default-parity-checkpoints/report"), "mixed");
    assertThat(mixed.loss()).hasSize(60);
    assertThat(mixed.loss().get(32L))
        .as("the resumed attempt's line of step 32")
        .isCloseTo(3.0 / Math.sqrt(32) + 0.01, org.assertj.core.data.Offset.offset(1e-4));
    assertThat(mixed.cumulativeSkipped().get(60L)).isEqualTo(6);
    assertThat(mixed.precision()).isEqualTo("fp16-mixed");
  }

  @Test
  void theReportIsOneSelfContainedFileWithItsChartsAndTheVerdict() throws Exception {
    Path work = workDir();
    assertThat(run("report", "--work-dir", work.toString())).isZero();
    String html = Files.readString(work.resolve("report.html"));
    assertThat(html)
        .contains("id=\"verdict\" class=\"pass\">PASSED")
        .contains("66.90%", "66.80%", "0.10 points")
        .contains("GPUs saved by mixed precision: <b>2</b>")
        .doesNotContain("http://", "https://", "<script");
    List<BufferedImage> charts = charts(html);
    assertThat(charts).hasSize(4);
    for (BufferedImage chart : charts) {
      assertThat(chart.getWidth()).isEqualTo(900);
      assertThat(colourPixels(chart, FP32_RGB) + colourPixels(chart, MIXED_RGB))
          .as("each chart draws the runs in their colours")
          .isGreaterThan(100);
    }
  }

  @Test
  void withoutAJobYamlTheWorkDirIsRefusedByName() {
    assertThat(run("report", "--work-dir", dir.toString())).isEqualTo(2);
    assertThat(run("report", "--reference", dir.toString())).isEqualTo(2);
  }

  @Test
  void headlessChromiumRendersTheCharts() throws Exception {
    Path chromium =
        Stream.of("/usr/bin/chromium", "/usr/bin/chromium-browser")
            .map(Path::of)
            .filter(Files::isExecutable)
            .findFirst()
            .orElse(null);
    assumeTrue(chromium != null, "chromium is not installed (.ci/install-tools installs it)");
    Path work = workDir();
    assertThat(run("report", "--work-dir", work.toString())).isZero();
    Path shot = dir.resolve("shot.png");
    Process p =
        new ProcessBuilder(
                chromium.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--window-size=960,2400",
                "--screenshot=" + shot,
                work.resolve("report.html").toUri().toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("chromium.log").toFile())
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("chromium finished").isTrue();
    assertThat(shot).as(Files.readString(dir.resolve("chromium.log"))).exists();
    BufferedImage image = ImageIO.read(shot.toFile());
    // The page's text and tables use neither colour: only the charts do.
    assertThat(colourPixels(image, FP32_RGB)).as("FP32 reference drawn").isGreaterThan(400);
    assertThat(colourPixels(image, MIXED_RGB)).as("fp16-mixed drawn").isGreaterThan(400);
    // Where the four charts are, the page is not blank: bands of 300 px rows each hold ink.
    int inkedBands = 0;
    for (int top = 0; top + 300 <= image.getHeight(); top += 300) {
      if (nonWhite(image, top, 300) > 0.05) {
        inkedBands++;
      }
    }
    assertThat(inkedBands).as("bands of the page with charts").isGreaterThanOrEqualTo(5);
  }

  private static List<BufferedImage> charts(String html) throws IOException {
    Matcher m = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
    List<BufferedImage> images = new java.util.ArrayList<>();
    while (m.find()) {
      images.add(
          ImageIO.read(
              new java.io.ByteArrayInputStream(
                  Base64.getDecoder().decode(m.group(1).getBytes(StandardCharsets.US_ASCII)))));
    }
    return images;
  }

  private static long colourPixels(BufferedImage image, int rgb) {
    long n = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        if (near(image.getRGB(x, y) & 0xffffff, rgb)) {
          n++;
        }
      }
    }
    return n;
  }

  private static boolean near(int a, int b) {
    for (int shift = 0; shift <= 16; shift += 8) {
      if (Math.abs(((a >> shift) & 0xff) - ((b >> shift) & 0xff)) > 12) {
        return false;
      }
    }
    return true;
  }

  private static double nonWhite(BufferedImage image, int top, int rows) {
    long ink = 0;
    for (int y = top; y < top + rows; y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        if ((image.getRGB(x, y) & 0xffffff) != 0xffffff) {
          ink++;
        }
      }
    }
    return ink / (double) (rows * image.getWidth());
  }
}
