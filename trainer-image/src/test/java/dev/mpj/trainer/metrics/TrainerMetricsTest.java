package dev.mpj.trainer.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.metrics.MetricsDoc;
import dev.mpj.metrics.PrometheusExposition;
import dev.mpj.trainer.config.RunConfig;
import dev.mpj.trainer.data.DataSource;
import dev.mpj.trainer.data.DataSplit;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.loop.StepResult;
import dev.mpj.trainer.loop.TrainingListener;
import dev.mpj.trainer.loop.TrainingSession;
import dev.mpj.trainer.output.MetricsWriter;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real small training run (fp16-mixed MLP, 300 steps, 4 micro-batches per step, an initial loss
 * scale of 2^24 that overflows FP16 and a growth interval of 20 that keeps overflowing) with its
 * /metrics and /progress served over HTTP. The run is held after step 150 to read both endpoints
 * mid-training, then finishes; every figure is checked against metrics.jsonl.
 */
class TrainerMetricsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TOKEN = "job-token-0123456789";
  private static final int STEPS = 300;
  private static final int PAUSE_AT = 150;
  private static final int ACCUMULATION = 4;
  private static final Map<String, String> LABELS =
      Map.of("job_name", "metrics-test", "namespace", "team-a", "replica", "0");
  private static final String JOB =
      """
      apiVersion: mpj.dev/v1alpha1
      kind: MixedPrecisionJob
      metadata: {name: metrics-test, namespace: team-a}
      spec:
        precision: fp16-mixed
        lossScaling: {mode: dynamic, initialScale: 16777216, growthFactor: 2.0, backoffFactor: 0.5, growthInterval: 20}
        model:
          architecture: mlp
          mlp: {hiddenSizes: [32, 32], activation: relu}
        data:
          source: synthetic
          synthetic: {task: classification, samples: 2048, features: 32, classes: 8}
          validationFraction: 0.2
        training:
          globalBatchSize: 64
          steps: %d
          optimizer: {type: adam, learningRate: 0.002}
          gradientClipNorm: 1.0
          seed: 0
        parity: {maxRelativeGap: 0.5, intervalSteps: 50, action: warn}
      """
          .formatted(STEPS);

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  @TempDir static Path output;
  private static TrainerMetrics metrics;
  private static MetricsServer server;

  // Read while the run was held after step PAUSE_AT.
  private static List<JsonNode> linesAtPause;
  private static PrometheusExposition scrapeAtPause;
  private static Map<String, HttpResponse<String>> progressAtPause;
  // Read after the last step.
  private static List<JsonNode> lines;
  private static PrometheusExposition finalScrape;
  private static JsonNode finalProgress;

  @BeforeAll
  static void trainWhileServing() throws Exception {
    MixedPrecisionJob job = JobFiles.parse(JOB);
    RunConfig config = RunConfig.standalone(job, 64 / ACCUMULATION);
    Dataset all = DataSource.load(config.spec());
    DataSplit split = DataSplit.of(all, config.spec().data.validationFraction, config.seed());
    metrics =
        new TrainerMetrics(
            JobLabels.of(config, job.getMetadata().getNamespace(), Map.of()),
            config,
            config.steps(split.train().samples()));
    server = MetricsServer.start(0, metrics, TOKEN);

    try (TrainingSession session = new TrainingSession(config, split);
        MetricsWriter writer = new MetricsWriter(output)) {
      session.addListener(writer);
      session.addListener(metrics);
      // Reads on the training thread, which waits meanwhile: libtorch's grad mode is per thread.
      session.addListener(
          new TrainingListener() {
            @Override
            public void onStep(StepResult step) {
              if (step.step() == PAUSE_AT) {
                readWhileHeld();
              }
            }
          });
      session.run();
    }
    lines = metricsLines();
    finalScrape = PrometheusExposition.parse(get("/metrics", null).body());
    finalProgress = JSON.readTree(get("/progress", "Bearer " + TOKEN).body());
  }

  private static void readWhileHeld() {
    try {
      linesAtPause = metricsLines();
      scrapeAtPause = PrometheusExposition.parse(get("/metrics", null).body());
      progressAtPause =
          Map.of(
              "none", get("/progress", null),
              "wrong", get("/progress", "Bearer not-the-" + TOKEN),
              "prefix", get("/progress", "Bearer " + TOKEN.substring(0, TOKEN.length() - 1)),
              "bare", get("/progress", TOKEN),
              "right", get("/progress", "Bearer " + TOKEN));
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  @AfterAll
  static void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void theRunOverflowedSometimesAndAppliedMostSteps() {
    assertThat(lines).hasSize(STEPS);
    long overflows = count(lines, "overflow");
    assertThat(overflows)
        .as("overflows of the 2^24 scale and of each growth")
        .isBetween(5L, STEPS / 2L);
  }

  @Test
  void midRunTheScrapeMatchesMetricsJsonlUpToTheStepItReports() {
    assertThat(linesAtPause).hasSize(PAUSE_AT);
    assertMatches(scrapeAtPause, linesAtPause);
  }

  @Test
  void atTheEndTheScrapeMatchesTheWholeMetricsJsonl() {
    assertMatches(finalScrape, lines);
  }

  @Test
  void everySeriesCarriesTheJobsLabelsAndTheProcessMemory() {
    for (PrometheusExposition.Family family : finalScrape.families()) {
      for (PrometheusExposition.Sample sample : family.samples()) {
        assertThat(sample.labels()).as(sample.name()).containsAllEntriesOf(LABELS);
      }
    }
    double rss = finalScrape.value("mpj_trainer_process_memory_bytes", LABELS).orElseThrow();
    assertThat(rss).as("VmRSS of this JVM with libtorch").isGreaterThan(50e6);
  }

  @Test
  void progressRefusesAMissingOrWrongTokenAndAnswersTheRightOne() throws IOException {
    for (String refused : List.of("none", "wrong", "prefix", "bare")) {
      HttpResponse<String> response = progressAtPause.get(refused);
      assertThat(response.statusCode()).as(refused).isEqualTo(401);
      assertThat(response.body()).as(refused).isEmpty();
      assertThat(response.headers().firstValue("WWW-Authenticate"))
          .as(refused)
          .hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
    }
    HttpResponse<String> ok = progressAtPause.get("right");
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(ok.headers().firstValue("Content-Type")).contains("application/json");
    JsonNode p = JSON.readTree(ok.body());
    assertThat(names(p))
        .containsExactly(
            "step",
            "totalSteps",
            "loss",
            "lossScale",
            "skippedSteps",
            "samplesPerSecond",
            "parity",
            "health");
    assertProgressMatches(p, linesAtPause);
    assertThat(names(p.get("parity")))
        .containsExactly("step", "fp16Loss", "fp32Loss", "relativeGap", "withinBound");
    JsonNode parityLine = linesAtPause.get(PAUSE_AT - 1).get("parity");
    assertThat(p.get("parity")).isEqualTo(parityLine);
  }

  @Test
  void theHealthOfTheLastHundredStepsShowsInTheScrapeAndProgress() {
    List<JsonNode> window = lines.subList(STEPS - 100, STEPS);
    long skipped = window.stream().filter(l -> l.get("skipped").asBoolean()).count();
    assertThat(skipped)
        .as("the growth interval of 20 overflows about once in 21 steps")
        .isPositive();
    assertThat(finalScrape.value("mpj_trainer_skipped_steps_window_ratio", LABELS))
        .hasValue(skipped / 100.0);
    assertThat(finalScrape.value("mpj_trainer_healthy", LABELS)).hasValue(1.0);
    assertThat(finalScrape.value("mpj_trainer_loss_scale_at_minimum", LABELS)).hasValue(0.0);
    assertThat(finalScrape.value("mpj_trainer_nonfinite_loss_steps_total", LABELS)).hasValue(0.0);
    assertThat(finalScrape.value("mpj_trainer_gradient_underflow_steps_total", LABELS))
        .hasValue(0.0);
    JsonNode health = finalProgress.get("health");
    assertThat(health.get("step").asLong()).isEqualTo(STEPS);
    assertThat(health.get("healthy").asBoolean()).isTrue();
    assertThat(health.get("reasons")).isEmpty();
    assertThat(health.get("stepsInWindow").asInt()).isEqualTo(100);
    assertThat(health.get("skippedStepsInWindow").asLong()).isEqualTo(skipped);
  }

  @Test
  void progressAtTheEndIsTheLastLine() {
    assertProgressMatches(finalProgress, lines);
    assertThat(finalProgress.has("lastCheckpoint")).as("no checkpoint published yet").isFalse();
  }

  @Test
  void everyDocumentedTrainerMetricIsExportedAndEveryExportedMetricIsDocumented() {
    List<MetricsDoc.Metric> documented = MetricsDoc.read().section("Trainer");
    assertThat(documented).hasSizeGreaterThanOrEqualTo(14);
    for (MetricsDoc.Metric metric : documented) {
      assertThat(finalScrape.family(metric.name()))
          .as("documented %s in the scrape", metric.name())
          .isPresent();
    }
    for (PrometheusExposition.Family family : finalScrape.families()) {
      MetricsDoc.Metric metric =
          documented.stream()
              .filter(m -> m.covers(family.name()))
              .findFirst()
              .orElseThrow(
                  () ->
                      new AssertionError(
                          family.name()
                              + " is exported but not in the Trainer table of "
                              + MetricsDoc.FILE));
      assertThat(metric.types()).as("type of %s", family.name()).containsExactly(family.type());
      assertThat(family.help()).as("help of %s", family.name()).isNotBlank();
      assertThat(family.samples()).as("samples of %s", family.name()).isNotEmpty();
      for (PrometheusExposition.Sample sample : family.samples()) {
        Set<String> labels = new HashSet<>(sample.labels().keySet());
        labels.remove("le");
        assertThat(labels).as("labels of %s", sample.name()).isEqualTo(metric.labels());
      }
    }
  }

  @Test
  void theHooksOfOtherPartsShowInBothEndpoints() throws Exception {
    // What the checkpoint writer and the replicas' all-reduce report (this run had neither).
    Instant published = Instant.parse("2026-01-02T03:04:05Z");
    TrainerMetrics hooks =
        new TrainerMetrics(
            new JobLabels("hooks", null, 0),
            RunConfig.standalone(JobFiles.parse(JOB), null),
            STEPS);
    hooks.checkpointPublished(100, published, "/checkpoints/step-00000100", 4096, 0.25);
    hooks.checkpointPublished(
        200, published.plusSeconds(60), "/checkpoints/step-00000200", 1000, 0.75);
    hooks.checkpointFailedForSpace(300);
    hooks.allReduce(Duration.ofMillis(3));
    hooks.resumedFrom(200, 7);
    PrometheusExposition scrape = PrometheusExposition.parse(hooks.scrape());
    Map<String, String> labels =
        Map.of("job_name", "hooks", "namespace", "default", "replica", "0");
    assertThat(scrape.value("mpj_trainer_checkpoint_bytes_total", labels)).contains(5096.0);
    assertThat(scrape.value("mpj_trainer_checkpoint_failed_space_checkpoints_total", labels))
        .contains(1.0);
    assertThat(scrape.value("mpj_trainer_checkpoint_write_duration_seconds_count", labels))
        .contains(2.0);
    assertThat(
            scrape.value("mpj_trainer_checkpoint_write_duration_seconds_sum", labels).orElseThrow())
        .isCloseTo(1.0, within(1e-9));
    assertThat(
            scrape.value(
                "mpj_trainer_checkpoint_write_duration_seconds_bucket", with(labels, "le", "0.5")))
        .contains(1.0);
    assertThat(scrape.value("mpj_trainer_allreduce_duration_seconds_count", labels)).contains(1.0);
    assertThat(scrape.value("mpj_trainer_step", labels)).contains(200.0);
    JsonNode progress = JSON.readTree(JSON.writeValueAsString(hooks.progress()));
    assertThat(progress.get("lastCheckpoint"))
        .isEqualTo(
            JSON.readTree(
                "{\"step\":200,\"time\":\"2026-01-02T03:05:05Z\",\"path\":\"/checkpoints/step-00000200\"}"));
    assertThat(progress.get("step").asLong()).isEqualTo(200);
    assertThat(progress.get("skippedSteps").asLong()).isEqualTo(7);
    assertThat(progress.get("loss").isNull()).as("no step since the resume").isTrue();
  }

  @Test
  void onlyReadsAreAnswered() throws Exception {
    HttpResponse<String> post =
        HTTP.send(
            HttpRequest.newBuilder(uri("/metrics"))
                .POST(HttpRequest.BodyPublishers.ofString("x"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(post.statusCode()).isEqualTo(405);
    HttpResponse<String> metricsGet = get("/metrics", null);
    assertThat(metricsGet.headers().firstValue("Content-Type"))
        .contains("text/plain; version=0.0.4; charset=utf-8");
  }

  /** The scrape against the metrics.jsonl lines up to the step it reports. */
  private static void assertMatches(PrometheusExposition scrape, List<JsonNode> upTo) {
    JsonNode last = upTo.get(upTo.size() - 1);
    assertThat(scrape.value("mpj_trainer_step", LABELS)).contains(last.get("step").asDouble());
    assertThat(scrape.value("mpj_trainer_loss", LABELS)).contains(last.get("loss").asDouble());
    assertThat(scrape.value("mpj_trainer_loss_scale", LABELS))
        .contains(last.get("lossScale").asDouble());
    assertThat(scrape.value("mpj_trainer_samples_per_second", LABELS))
        .contains(last.get("samplesPerSecond").asDouble());
    JsonNode lastApplied =
        upTo.stream().filter(l -> !l.get("skipped").asBoolean()).reduce((a, b) -> b).orElseThrow();
    assertThat(scrape.value("mpj_trainer_grad_norm", LABELS))
        .contains(lastApplied.get("gradNorm").asDouble());
    assertThat(scrape.value("mpj_trainer_overflow_steps_total", LABELS))
        .contains((double) count(upTo, "overflow"));
    assertThat(scrape.value("mpj_trainer_skipped_steps_total", LABELS))
        .contains((double) count(upTo, "skipped"));
    assertThat(scrape.value("mpj_trainer_step_duration_seconds_count", LABELS))
        .contains((double) upTo.size());
    assertThat(scrape.value("mpj_trainer_step_duration_seconds_bucket", with(LABELS, "le", "+Inf")))
        .contains((double) upTo.size());
    assertThat(scrape.value("mpj_trainer_step_duration_seconds_sum", LABELS).orElseThrow())
        .isPositive();
    assertThat(scrape.value("mpj_trainer_data_loading_duration_seconds_count", LABELS))
        .as("one per micro-batch")
        .contains((double) upTo.size() * ACCUMULATION);
    JsonNode lastParity =
        upTo.stream().filter(l -> l.has("parity")).reduce((a, b) -> b).orElseThrow().get("parity");
    assertThat(scrape.value("mpj_trainer_parity_relative_gap", LABELS))
        .contains(lastParity.get("relativeGap").asDouble());
  }

  private static void assertProgressMatches(JsonNode p, List<JsonNode> upTo) {
    JsonNode last = upTo.get(upTo.size() - 1);
    assertThat(p.get("step").asLong()).isEqualTo(last.get("step").asLong());
    assertThat(p.get("totalSteps").asLong()).isEqualTo(STEPS);
    assertThat(p.get("loss").asDouble()).isEqualTo(last.get("loss").asDouble());
    assertThat(p.get("lossScale").asDouble()).isEqualTo(last.get("lossScale").asDouble());
    assertThat(p.get("skippedSteps").asLong()).isEqualTo(count(upTo, "skipped"));
    assertThat(p.get("samplesPerSecond").asDouble())
        .isEqualTo(last.get("samplesPerSecond").asDouble());
  }

  private static long count(List<JsonNode> lines, String flag) {
    return lines.stream().filter(l -> l.get(flag).asBoolean()).count();
  }

  private static List<String> names(JsonNode object) {
    List<String> names = new ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    return names;
  }

  private static Map<String, String> with(Map<String, String> labels, String name, String value) {
    Map<String, String> copy = new HashMap<>(labels);
    copy.put(name, value);
    return copy;
  }

  private static List<JsonNode> metricsLines() throws IOException {
    List<JsonNode> parsed = new ArrayList<>();
    for (String line : Files.readAllLines(output.resolve(MetricsWriter.FILE))) {
      parsed.add(JSON.readTree(line));
    }
    return parsed;
  }

  private static URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  private static HttpResponse<String> get(String path, String authorization)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(uri(path)).timeout(Duration.ofSeconds(10)).GET();
    if (authorization != null) {
      request.header("Authorization", authorization);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
