package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.Crd;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.SizingStatus;
import dev.mpj.metrics.MetricsDoc;
import dev.mpj.metrics.PrometheusExposition;
import dev.mpj.operator.metrics.MetricsEndpoint;
import dev.mpj.operator.metrics.MetricsServer;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.SizingSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator's /metrics, scraped over HTTP while it reconciles jobs in the mock API server,
 * parsed with {@link PrometheusExposition} and held against what the API server says happened.
 */
class OperatorMetricsTest {
  /** Jobs with this seed make the sizer throw: it stands in for any bug a reconcile can hit. */
  static final long FAILING_SEED = 13;

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  private MockCluster cluster;
  private MpjOperator operator;
  private MetricsServer server;

  @BeforeEach
  void start() {
    cluster = MockCluster.start();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    MemorySizer sizer = new MemorySizer(SizingSettings.defaults());
    operator =
        MpjOperator.start(
            cluster.client,
            OperatorSettings.defaults()
                .withProgressInterval(Duration.ofSeconds(1))
                .withMeterRegistry(registry)
                .withSizer(
                    (spec, capacity) -> {
                      if (spec.training.seed == FAILING_SEED) {
                        throw new IllegalStateException("the sizer failed on purpose");
                      }
                      return sizer.plan(spec, capacity);
                    }));
    server = MetricsServer.start(0, new MetricsEndpoint(registry, operator.metrics()::refresh));
  }

  @AfterEach
  void stop() {
    server.close();
    operator.close();
    cluster.close();
  }

  @Test
  void scrapedMetricsFollowTheJobsThroughARestartAndADeletion() {
    cluster.apply(MockCluster.quickstart("digits"));
    MixedPrecisionJob suspended = MockCluster.quickstart("queued");
    suspended.getSpec().runPolicy.suspend = true;
    cluster.apply(suspended);
    MixedPrecisionJob invalid = MockCluster.quickstart("broken");
    invalid.getSpec().training.globalBatchSize = 0;
    cluster.apply(invalid);
    MixedPrecisionJob erring = MockCluster.quickstart("erring");
    erring.getSpec().training.seed = FAILING_SEED;
    cluster.apply(erring);

    eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
    cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.1"));
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));
    eventually(
        () -> {
          PrometheusExposition scrape = scrape();
          assertPhasesMatchTheApiServer(scrape);
          // digits runs, queued waits suspended, broken (invalid) and erring (no status yet) are
          // Pending.
          assertThat(scrape.value("mpj_jobs", Map.of("phase", "Running"))).contains(1.0);
          assertThat(scrape.value("mpj_jobs", Map.of("phase", "Suspended"))).contains(1.0);
          assertThat(scrape.value("mpj_jobs", Map.of("phase", "Pending"))).contains(2.0);
        });

    cluster.markExited(cluster.pods("digits").get(1), 137);
    eventually(() -> assertThat(cluster.job("digits").getStatus().restarts).isEqualTo(1));
    eventually(
        () ->
            assertThat(cluster.pods("digits"))
                .hasSize(2)
                .allSatisfy(
                    p ->
                        assertThat(p.getMetadata().getLabels())
                            .containsEntry(Crd.LABEL_ATTEMPT, "2")));
    cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.2"));
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));

    eventually(
        () -> {
          PrometheusExposition scrape = scrape();
          assertPhasesMatchTheApiServer(scrape);
          assertThat(scrape.value("mpj_job_restarts_total", job("digits")))
              .contains((double) cluster.job("digits").getStatus().restarts);
          assertThat(scrape.value("mpj_job_restarts_total", job("queued"))).contains(0.0);
          assertThat(scrape.value("mpj_job_restarts_total", job("erring")))
              .as("no status yet: no restarts")
              .contains(0.0);
        });
    PrometheusExposition scrape = scrape();
    assertThat(scrape.family("mpj_job_restarts_total").orElseThrow().type()).isEqualTo("counter");
    assertThat(scrape.family("mpj_jobs").orElseThrow().type()).isEqualTo("gauge");

    SizingStatus sizing = cluster.job("digits").getStatus().sizing;
    for (SizingStatus.PrecisionPlan plan :
        new SizingStatus.PrecisionPlan[] {sizing.plan, sizing.fp32}) {
      Map<String, String> labels = with(job("digits"), "precision", plan.precision);
      assertThat(scrape.value("mpj_job_sizing_bytes_per_replica", labels))
          .contains((double) plan.bytesPerReplica);
      assertThat(scrape.value("mpj_job_sizing_gpus", labels)).contains((double) plan.gpus);
    }
    assertThat(scrape.samples("mpj_job_sizing_bytes_per_replica", job("digits")))
        .extracting(s -> s.label("precision"))
        .containsExactlyInAnyOrder("fp16-mixed", "fp32");
    double fp32 =
        scrape
            .value("mpj_job_sizing_bytes_per_replica", with(job("digits"), "precision", "fp32"))
            .orElseThrow();
    double mixed =
        scrape
            .value(
                "mpj_job_sizing_bytes_per_replica", with(job("digits"), "precision", "fp16-mixed"))
            .orElseThrow();
    // Both at micro-batch 32 with the same reserve. The quick-start's MLP (21,768 parameters) is
    // smaller than one update piece, so the update temporaries (6 copies of the model in FP32 in
    // FP16 mixed, 5 in FP32: Adam's fused kernel, and in FP16 mixed the FP32 gradient) are larger
    // than the activations (32 * 608 + 2 * 16,384 and 32 * 1,184 + 4 * 16,384, with backward's new
    // gradient of the 128 x 128 weight), which the trainer frees before the update: 4 * 21,768 =
    // 87,072 B more in FP16 mixed, less the joined gradient of the grouped parameters (all of them,
    // one group), 4 B each in FP32 and 2 in FP16 mixed: 87,072 - 2 * 21,768 = 43,536 B more.
    assertThat(mixed - fp32).as("fp16-mixed minus fp32 per replica").isEqualTo(43_536.0);
    assertThat(sizing.memorySavedPerReplicaBytes).isEqualTo(-43_536L);
    assertThat(scrape.value("mpj_job_sizing_gpus_saved", job("digits")))
        .contains((double) sizing.gpusSaved);
    assertThat(scrape.samples("mpj_job_sizing_bytes_per_replica", job("broken")))
        .as("a job that was never sized has no sizing series")
        .isEmpty();

    assertThat(scrape.value("mpj_reconcile_errors_total", job("digits"))).contains(0.0);
    double errors = scrape.value("mpj_reconcile_errors_total", job("erring")).orElseThrow();
    assertThat(errors).isPositive();
    eventually(
        () ->
            assertThat(scrape().value("mpj_reconcile_errors_total", job("erring")).orElseThrow())
                .as("the failing reconcile is retried, and each failure counts")
                .isGreaterThan(errors));

    assertThat(
            scrape.sum(
                "operator_sdk_reconciliations_started_total", Map.of("kind", "MixedPrecisionJob")))
        .isPositive();
    assertThat(scrape.sum("operator_sdk_reconciliations_failed_total", Map.of())).isPositive();
    assertThat(scrape.familyNames())
        .anyMatch(n -> n.startsWith("operator_sdk_controllers_execution_reconcile"));

    cluster.client.resource(cluster.job("digits")).delete();
    eventually(
        () -> {
          PrometheusExposition after = scrape();
          assertThat(after.samples("mpj_job_restarts_total", job("digits"))).isEmpty();
          assertThat(after.samples("mpj_job_sizing_bytes_per_replica", job("digits"))).isEmpty();
          assertThat(after.samples("mpj_job_sizing_gpus_saved", job("digits"))).isEmpty();
          assertThat(after.samples("mpj_reconcile_errors_total", job("digits"))).isEmpty();
          assertThat(after.value("mpj_job_restarts_total", job("queued"))).isPresent();
          assertPhasesMatchTheApiServer(after);
        });
  }

  @Test
  void everyDocumentedOperatorMetricIsExportedAndEveryExportedMetricIsDocumented() {
    cluster.apply(MockCluster.quickstart("digits"));
    // A disruption, so that mpj_disruptions_total has a series.
    eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
    cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.1"));
    cluster.markDisrupted(cluster.pods("digits").get(1), "PreemptionByScheduler", 143);
    eventually(
        () ->
            assertThat(
                    scrape()
                        .value(
                            "mpj_disruptions_total",
                            Map.of("source", "pod", "reason", "PreemptionByScheduler")))
                .contains(1.0));
    // A job whose run left the FP32 reference: reference parity's series.
    ReferenceParityVerdictTest.runBothGangs(cluster, "parity", false);
    eventually(
        () -> {
          PrometheusExposition scrape = scrape();
          assertThat(scrape.value("mpj_job_parity_reference_within_bounds", job("parity")))
              .contains(0.0);
          assertThat(scrape.value("mpj_job_parity_reference_accuracy_drop_points", job("parity")))
              .contains(57.5);
          assertThat(scrape.value("mpj_job_parity_reference_validation_loss_gap", job("parity")))
              .contains(1.0);
          assertThat(scrape.value("mpj_job_parity_reference_training_loss_gap", job("parity")))
              .contains(0.77);
          assertThat(scrape.samples("mpj_job_parity_reference_within_bounds", job("digits")))
              .as("a job without reference parity has no such series")
              .isEmpty();
        });
    List<MetricsDoc.Metric> documented = MetricsDoc.read().section("Operator");
    assertThat(documented)
        .extracting(MetricsDoc.Metric::name)
        .contains("mpj_jobs", "operator_sdk_");

    eventually(
        () -> {
          PrometheusExposition scrape = scrape();
          for (MetricsDoc.Metric metric : documented) {
            assertThat(scrape.families())
                .as("documented %s", metric.name())
                .anySatisfy(f -> assertThat(metric.covers(f.name())).isTrue());
          }
        });
    PrometheusExposition scrape = scrape();
    for (PrometheusExposition.Family family : scrape.families()) {
      MetricsDoc.Metric metric =
          documented.stream()
              .filter(m -> m.covers(family.name()))
              .findFirst()
              .orElseThrow(
                  () ->
                      new AssertionError(
                          family.name() + " is exported but not in " + MetricsDoc.FILE));
      assertThat(metric.types()).as("type of %s", family.name()).contains(family.type());
      assertThat(family.samples()).as("samples of %s", family.name()).isNotEmpty();
      for (PrometheusExposition.Sample sample : family.samples()) {
        Set<String> labels = new HashSet<>(sample.labels().keySet());
        labels.remove("le");
        if (metric.group()) {
          assertThat(metric.labels()).as("labels of %s", sample.name()).containsAll(labels);
        } else {
          assertThat(labels).as("labels of %s", sample.name()).isEqualTo(metric.labels());
        }
      }
    }
  }

  @Test
  void theEndpointAnswersInTheTextFormatAndOnlyToReads() throws Exception {
    HttpResponse<String> get = request("GET");
    assertThat(get.statusCode()).isEqualTo(200);
    assertThat(get.headers().firstValue("Content-Type"))
        .contains("text/plain; version=0.0.4; charset=utf-8");
    PrometheusExposition scrape = PrometheusExposition.parse(get.body());
    assertThat(
            Arrays.stream(JobPhase.values())
                .map(p -> scrape.value("mpj_jobs", Map.of("phase", p.name()))))
        .as("every phase is there, 0 with no jobs")
        .allSatisfy(v -> assertThat(v).contains(0.0));
    assertThat(request("POST").statusCode()).isEqualTo(405);
  }

  /**
   * mpj_jobs{phase} equals the jobs in the mock API server in each phase (no status yet: Pending).
   */
  private void assertPhasesMatchTheApiServer(PrometheusExposition scrape) {
    Map<JobPhase, Long> expected =
        cluster
            .client
            .resources(MixedPrecisionJob.class)
            .inAnyNamespace()
            .list()
            .getItems()
            .stream()
            .collect(
                Collectors.groupingBy(
                    j ->
                        Optional.ofNullable(j.getStatus())
                            .map(s -> s.phase)
                            .orElse(JobPhase.Pending),
                    Collectors.counting()));
    Map<JobPhase, Double> scraped =
        Arrays.stream(JobPhase.values())
            .collect(
                Collectors.toMap(
                    Function.identity(),
                    p ->
                        scrape
                            .value("mpj_jobs", Map.of("phase", p.name()))
                            .orElseThrow(
                                () -> new AssertionError("no mpj_jobs{phase=\"" + p + "\"}"))));
    for (JobPhase phase : JobPhase.values()) {
      assertThat(scraped.get(phase))
          .as("mpj_jobs{phase=%s}", phase)
          .isEqualTo((double) expected.getOrDefault(phase, 0L));
    }
  }

  private PrometheusExposition scrape() {
    try {
      HttpResponse<String> response = request("GET");
      assertThat(response.statusCode()).isEqualTo(200);
      return PrometheusExposition.parse(response.body());
    } catch (IOException e) {
      throw new AssertionError(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  private HttpResponse<String> request(String method) throws IOException, InterruptedException {
    return HTTP.send(
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.port() + MetricsEndpoint.PATH))
            .method(method, HttpRequest.BodyPublishers.noBody())
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static Map<String, String> job(String name) {
    return Map.of("job_name", name, "namespace", MockCluster.NS);
  }

  private static Map<String, String> with(Map<String, String> labels, String name, String value) {
    var copy = new HashMap<>(labels);
    copy.put(name, value);
    return copy;
  }
}
