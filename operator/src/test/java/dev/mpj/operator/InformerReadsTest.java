package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A running job's reconciles read its replica pods from the informer's cache (JOSDK's secondary
 * resources): in steady state the operator sends no pod LIST, however often it reconciles.
 */
class InformerReadsTest {
  private static final String OPERATOR_AGENT = "mpj-operator-under-test";

  @Test
  void reconcilesOfARunningJobListNoPods() throws Exception {
    try (MockCluster cluster = MockCluster.start();
        KubernetesClient operatorClient =
            cluster
                .server()
                .createClient(b -> b.editOrNewConfig().withUserAgent(OPERATOR_AGENT).endConfig());
        MpjOperator operator =
            MpjOperator.start(
                operatorClient,
                OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)))) {
      cluster.apply(MockCluster.quickstart("digits"));
      eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
      cluster.pods("digits").forEach(p -> cluster.markRunning(p, "127.0.0.1"));
      eventually(
          () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));

      operatorRequests(cluster); // what led here: the informers' initial lists, the creates
      // Running, the operator reconciles every progress interval (1 s) to read rank 0's progress.
      Thread.sleep(5000);
      List<String> steady = operatorRequests(cluster);

      String jobPath =
          "/apis/mpj.dev/v1alpha1/namespaces/" + MockCluster.NS + "/mixedprecisionjobs/digits";
      String podsPath = "/api/v1/namespaces/" + MockCluster.NS + "/pods";
      long reconciles = steady.stream().filter(r -> r.equals("GET " + jobPath)).count();
      List<String> podLists =
          steady.stream()
              .filter(r -> r.startsWith("GET " + podsPath + "?") || r.equals("GET " + podsPath))
              .filter(r -> !r.contains("watch=true"))
              .toList();
      assertThat(reconciles)
          .as("reconciles (one job GET each) in 5 s: %s", steady)
          .isGreaterThanOrEqualTo(2);
      assertThat(podLists).as("pod LISTs while %d reconciles ran", reconciles).isEmpty();
    }
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
