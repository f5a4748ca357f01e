package dev.mpj.operator;

import static dev.mpj.operator.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The operator against the mock API server: a job's gang from creation to its end. */
class GangLifecycleTest {
  private MockCluster cluster;
  private MpjOperator operator;

  @BeforeEach
  void start() {
    cluster = MockCluster.start();
    operator = MpjOperator.start(cluster.client, OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)));
  }

  @AfterEach
  void stop() {
    operator.close();
    cluster.close();
  }

  @Test
  void twoReplicaJobGetsItsGangAndRuns() {
    cluster.apply(MockCluster.quickstart("digits"));

    eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
    List<Pod> pods = cluster.pods("digits");
    assertThat(pods).extracting(p -> p.getMetadata().getName()).containsExactly("digits-worker-0", "digits-worker-1");

    pods.forEach(p -> cluster.markRunning(p, "10.0.0." + (10 + pods.indexOf(p))));
    eventually(() -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));
    MixedPrecisionJob job = cluster.job("digits");
    assertThat(job.getStatus().readyReplicas).isEqualTo(2);
    assertThat(condition(job, "Ready").getStatus()).isEqualTo("True");
  }

  static Condition condition(MixedPrecisionJob job, String type) {
    return job.getStatus().conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElseThrow(
        () -> new AssertionError("no condition " + type + " in " + job.getStatus().conditions));
  }
}
