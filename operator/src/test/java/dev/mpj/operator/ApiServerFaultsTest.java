package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.FaultInjectingDispatcher.Fault;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The operator converges while a share of its API requests fail (500, 409, 410 on watches, a write
 * whose response is lost): every job ends as it would without faults, with one pod per rank and
 * attempt, no attempt counted twice and no status lost. The seed is printed; rerun one with
 * -Dmpj.faults.seed=N.
 */
class ApiServerFaultsTest {
  private static final Duration CONVERGE = Duration.ofSeconds(90);
  private static final long DEFAULT_SEED = 443;

  private MockCluster cluster;
  private KubernetesClient operatorClient;
  private MpjOperator operator;

  @AfterEach
  void stop() {
    if (operator != null) {
      operator.close();
    }
    if (operatorClient != null) {
      operatorClient.close();
    }
    if (cluster != null) {
      cluster.close();
    }
  }

  // Found by the test below: JOSDK stopped the operator when an informer's very first watch got
  // 410 Gone ("Fatal error in informer"), which a busy API server answers when the list it followed
  // is already too old.
  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void theOperatorStartsWhenTheFirstWatchOfEachInformerExpires() {
    FaultInjectingDispatcher[] faults = new FaultInjectingDispatcher[1];
    cluster = MockCluster.start(next -> faults[0] = new FaultInjectingDispatcher(next, 0, 0));
    faults[0].expireFirstWatches();
    operatorClient = faultyClient();
    operator = MpjOperator.start(operatorClient, OperatorSettings.defaults());

    cluster.apply(MockCluster.quickstart("alpha"));
    eventually(CONVERGE, () -> assertThat(cluster.pods("alpha")).hasSize(2));
    assertThat(faults[0].watchesExpired())
        .as("the informers of jobs and pods each had a first watch expire")
        .contains("/api/v1/pods")
        .anyMatch(path -> path.matches("/apis/mpj\\.dev/v[^/]+/mixedprecisionjobs"));
    assertThat(operator.isStarted()).isTrue();
  }

  private KubernetesClient faultyClient() {
    return new KubernetesClientBuilder()
        .withConfig(
            new ConfigBuilder(cluster.client.getConfiguration())
                .withCustomHeaders(Map.of(FaultInjectingDispatcher.HEADER, "operator"))
                .build())
        .build();
  }

  /**
   * CI runs seed 443; -Dmpj.faults.seed=N runs another. The seed fixes the draws, not which request
   * each draw meets: the operator's threads interleave differently from run to run.
   */
  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void jobsConvergeWhenAFifthOfTheOperatorsRequestsFail() {
    long seed = Long.getLong("mpj.faults.seed", DEFAULT_SEED);
    System.out.println("ApiServerFaultsTest seed " + seed);
    FaultInjectingDispatcher[] faults = new FaultInjectingDispatcher[1];
    cluster = MockCluster.start(next -> faults[0] = new FaultInjectingDispatcher(next, seed, 0.2));
    operatorClient = faultyClient();
    operator =
        MpjOperator.start(
            operatorClient,
            OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)));
    // Once started: the start with expired watches is the test above.
    faults[0].enable();

    List<String> jobs = List.of("alpha", "beta", "gamma");
    jobs.forEach(name -> cluster.apply(MockCluster.quickstart(name)));
    for (String name : jobs) {
      eventually(CONVERGE, () -> assertThat(cluster.pods(name)).hasSize(2));
      cluster.pods(name).forEach(p -> cluster.markRunning(p, "10.0.0.1"));
    }
    for (String name : jobs) {
      eventually(
          CONVERGE,
          () -> assertThat(cluster.job(name).getStatus().phase).isEqualTo(JobPhase.Running));
    }

    // alpha loses a replica: exactly one restart, whatever fails around it.
    cluster.markExited(cluster.pods("alpha").get(1), 137);
    eventually(
        CONVERGE,
        () ->
            assertThat(cluster.pods("alpha"))
                .hasSize(2)
                .allSatisfy(
                    p ->
                        assertThat(p.getMetadata().getLabels())
                            .containsEntry("mpj.dev/attempt", "2")));
    cluster.pods("alpha").forEach(p -> cluster.markRunning(p, "10.0.0.2"));
    eventually(
        CONVERGE,
        () -> assertThat(cluster.job("alpha").getStatus().phase).isEqualTo(JobPhase.Running));

    // Every job succeeds: rank 0 reports success, last (once it has, the operator deletes the
    // other ranks' pods, and a kubelet cannot write their end any more).
    for (String name : jobs) {
      List<Pod> pods = new ArrayList<>(cluster.pods(name));
      Collections.reverse(pods);
      pods.forEach(p -> cluster.markExited(p, 0));
    }
    for (String name : jobs) {
      eventually(
          CONVERGE,
          () -> assertThat(cluster.job(name).getStatus().phase).isEqualTo(JobPhase.Succeeded));
    }
    // A little longer under faults, then nothing may have changed.
    eventually(Duration.ofSeconds(3), () -> assertThat(faults[0].injected()).isNotEmpty());
    faults[0].disable();

    Map<Fault, Integer> injected = faults[0].injected();
    System.out.println("ApiServerFaultsTest seed " + seed + " injected " + injected);
    assertThat(injected).containsKeys(Fault.SERVER_ERROR, Fault.CONFLICT, Fault.RESPONSE_LOST);

    for (String name : jobs) {
      MixedPrecisionJob job = cluster.job(name);
      int restarts = name.equals("alpha") ? 1 : 0;
      assertThat(job.getStatus().restarts).as(name + " restarts").isEqualTo(restarts);
      assertThat(job.getStatus().attempt).as(name + " attempt").isEqualTo(restarts + 1);
      assertThat(job.getStatus().startTime).as(name + " startTime").isNotNull();
      assertThat(job.getStatus().completionTime).as(name + " completionTime").isNotNull();
      List<String> reasons = cluster.events(name).stream().map(Event::getReason).toList();
      // Once per restart: a reconcile whose status write failed runs again and decides the same,
      // and its Events are not recorded twice (seed 75572 once gave alpha two).
      assertThat(reasons.stream().filter("Restarting"::equals).count())
          .as(name + " Restarting events")
          .isEqualTo(restarts);
      assertThat(reasons.stream().filter("Started"::equals).count())
          .as(name + " Started events")
          .isEqualTo(restarts + 1);
    }
    // One pod per rank and attempt reached the store, never two.
    Map<String, Long> creations =
        faults[0].podsCreated().stream()
            .collect(Collectors.groupingBy(Function.identity(), Collectors.counting()));
    assertThat(creations)
        .containsOnlyKeys(
            "alpha-worker-0 attempt=1",
            "alpha-worker-1 attempt=1",
            "alpha-worker-0 attempt=2",
            "alpha-worker-1 attempt=2",
            "beta-worker-0 attempt=1",
            "beta-worker-1 attempt=1",
            "gamma-worker-0 attempt=1",
            "gamma-worker-1 attempt=1");
    assertThat(creations.values()).as("pods created per rank and attempt").containsOnly(1L);
  }
}
