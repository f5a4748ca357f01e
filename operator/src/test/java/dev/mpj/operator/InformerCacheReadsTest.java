package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.Crd;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.mockwebserver.http.Dispatcher;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.WebSocketListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The operator reads the job and its pods from the informers' caches, writes the status with
 * server-side apply, and a cache that lags behind what the operator itself did changes no decision:
 * the lag is made certain by a watch that opens and then delivers nothing (a real informer's watch
 * lags by milliseconds; here it lags forever).
 */
class InformerCacheReadsTest {
  private static final String OPERATOR_AGENT = "mpj-operator-under-test";
  private static final Pattern POD_WATCH =
      Pattern.compile("^/api/v1/(namespaces/[^/]+/)?pods\\?.*watch=true.*");
  private static final Pattern JOB_WATCH =
      Pattern.compile(
          "^/apis/mpj\\.dev/[^/]+/(namespaces/[^/]+/)?mixedprecisionjobs\\?.*watch=true.*");

  @Test
  void aRunningJobIsReconciledWithoutReadingTheApiServer() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (MockCluster cluster = MockCluster.start();
        KubernetesClient operatorClient = operatorClient(cluster);
        MpjOperator operator =
            MpjOperator.start(
                operatorClient,
                OperatorSettings.defaults()
                    .withProgressInterval(Duration.ofSeconds(1))
                    .withMeterRegistry(registry))) {
      cluster.apply(MockCluster.quickstart("digits"));
      eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
      eventually(() -> assertThat(cluster.job("digits").getStatus()).isNotNull());
      String jobPath =
          "/apis/mpj.dev/v1alpha1/namespaces/" + MockCluster.NS + "/mixedprecisionjobs/digits";
      List<String> starting = operatorRequests(cluster);
      assertThat(starting)
          .as("the status written with server-side apply by the controller's field manager")
          .anyMatch(
              r ->
                  r.startsWith("PATCH " + jobPath + "/status?")
                      && r.contains("fieldManager=mixedprecisionjob"))
          .noneMatch(r -> r.startsWith("PUT " + jobPath));
      cluster.pods("digits").forEach(p -> cluster.markRunning(p, "127.0.0.1"));
      eventually(
          () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));

      operatorRequests(cluster); // what led here
      // Running, the operator reconciles every progress interval (1 s) to read rank 0's progress
      // (nobody answers it here, so the status stays as it is and is not written).
      double before = reconciles(registry);
      Thread.sleep(5000);
      List<String> steady = operatorRequests(cluster);
      double reconciles = reconciles(registry) - before;

      assertThat(reconciles).as("reconciles in 5 s").isGreaterThanOrEqualTo(3);
      assertThat(steady)
          .as("no GET of the job, no LIST of its pods while %s reconciles ran", reconciles)
          .noneMatch(r -> r.startsWith("GET " + jobPath))
          .noneMatch(r -> r.startsWith("GET /api/v1/namespaces/" + MockCluster.NS + "/pods"));
    }
  }

  @Test
  void podsCreatedButNotYetInTheCacheAreNotCreatedAgain() throws Exception {
    try (MockCluster cluster = MockCluster.start(d -> silencing(d, POD_WATCH));
        KubernetesClient operatorClient = operatorClient(cluster);
        MpjOperator operator = start(operatorClient)) {
      cluster.apply(MockCluster.quickstart("digits"));
      eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
      // The pods' watch shows none of them; the job is reconciled every second meanwhile.
      Thread.sleep(5000);
      List<String> requests = operatorRequests(cluster);

      List<String> podCreates =
          requests.stream()
              .filter(r -> r.equals("POST /api/v1/namespaces/" + MockCluster.NS + "/pods"))
              .toList();
      assertThat(podCreates).as("pod creates in %s", requests).hasSize(2);
      MixedPrecisionJob job = cluster.job("digits");
      assertThat(job.getStatus().attempt).isEqualTo(1);
      assertThat(job.getStatus().phase).isEqualTo(JobPhase.Pending);
      assertThat(reasons(cluster, "digits").stream().filter("Started"::equals)).hasSize(1);
      assertThat(cluster.pods("digits"))
          .extracting(p -> p.getMetadata().getLabels().get(Crd.LABEL_ATTEMPT))
          .containsOnly("1");
    }
  }

  @Test
  void aStatusWrittenButNotYetInTheCacheIsNeitherRepeatedNorLost() throws Exception {
    try (MockCluster cluster = MockCluster.start(d -> silencing(d, JOB_WATCH))) {
      // Applied before the operator starts: its informer lists the job (no status), then its watch
      // shows none of the statuses the operator writes.
      cluster.apply(MockCluster.quickstart("digits"));
      try (KubernetesClient operatorClient = operatorClient(cluster);
          MpjOperator operator = start(operatorClient)) {
        eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
        eventually(() -> assertThat(cluster.job("digits").getStatus()).isNotNull());
        String startTime = cluster.job("digits").getStatus().startTime;
        assertThat(startTime).isNotNull();
        cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.1"));
        eventually(
            () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));

        cluster.markExited(cluster.pods("digits").get(1), 137);
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
        Thread.sleep(3000); // reconciles every second on the cached status

        MixedPrecisionJob job = cluster.job("digits");
        assertThat(job.getStatus().restarts).isEqualTo(1);
        assertThat(job.getStatus().attempt).isEqualTo(2);
        assertThat(job.getStatus().startTime).as("kept from the first write").isEqualTo(startTime);
        assertThat(job.getStatus().restartHistory).hasSize(1);
        assertThat(job.getStatus().observedGeneration).isEqualTo(1L);
        assertThat(reasons(cluster, "digits").stream().filter("Restarting"::equals)).hasSize(1);
        List<String> podCreates =
            operatorRequests(cluster).stream()
                .filter(r -> r.equals("POST /api/v1/namespaces/" + MockCluster.NS + "/pods"))
                .toList();
        assertThat(podCreates).as("two pods for each of the two attempts").hasSize(4);
      }
    }
  }

  /** Reconciles JOSDK started so far, from its Micrometer metrics. */
  private static double reconciles(SimpleMeterRegistry registry) {
    return registry.getMeters().stream()
        .filter(m -> m.getId().getName().contains("reconciliations.started"))
        .filter(Counter.class::isInstance)
        .mapToDouble(m -> ((Counter) m).count())
        .sum();
  }

  private static MpjOperator start(KubernetesClient client) {
    return MpjOperator.start(
        client, OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)));
  }

  private static KubernetesClient operatorClient(MockCluster cluster) {
    return cluster
        .server()
        .createClient(b -> b.editOrNewConfig().withUserAgent(OPERATOR_AGENT).endConfig());
  }

  /**
   * {@code next}, except that a watch whose path matches {@code watches} opens and then delivers
   * nothing: the informer stays with what it listed.
   */
  private static Dispatcher silencing(Dispatcher next, Pattern watches) {
    return new Dispatcher() {
      @Override
      public MockResponse dispatch(RecordedRequest request) {
        if (watches.matcher(request.getPath()).matches()) {
          return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {});
        }
        return next.dispatch(request);
      }

      @Override
      public void shutdown() {
        next.shutdown();
      }
    };
  }

  private static List<String> reasons(MockCluster cluster, String job) {
    return cluster.events(job).stream().map(Event::getReason).toList();
  }

  /** The operator's requests since the last call, as "METHOD path?query", in order. */
  private static List<String> operatorRequests(MockCluster cluster) throws InterruptedException {
    List<String> requests = new ArrayList<>();
    RecordedRequest r;
    while ((r = cluster.server().takeRequest(50, TimeUnit.MILLISECONDS)) != null) {
      if (OPERATOR_AGENT.equals(r.getHeader("User-Agent"))) {
        requests.add(r.getMethod() + " " + r.getPath());
      }
    }
    return requests;
  }
}
