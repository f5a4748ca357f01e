package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.ReplicasSpec;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Why a trainer failed reaches the job's status and Events. The kubelet's part is played by hand:
 * each pod ends with the exit code and the termination message mpj-trainer leaves in that case
 * ({@code {"reason": ...}}, beside rank 0's final progress; see TrainCommandTest for the trainer's
 * side).
 */
class FailureReasonThroughOperatorTest {
  private MockCluster cluster;
  private MpjOperator operator;

  @BeforeEach
  void start() {
    cluster = MockCluster.start();
    operator =
        MpjOperator.start(
            cluster.client,
            OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)));
  }

  @AfterEach
  void stop() {
    if (operator != null) {
      operator.close();
    }
    cluster.close();
  }

  @Test
  void aBadDataPathFailsTheJobAndSaysWhichPath() {
    String reason = "invalid job: spec.data.csv.path: file not found: /data/missing.csv";
    List<Pod> pods = job("bad-data", 1, job -> {});
    cluster.markExited(pods.get(0), 2, "{\"reason\":\"" + reason + "\"}");
    assertFailedWith("bad-data", "InvalidConfig", reason);
  }

  @Test
  void aParityFailureWithActionFailSaysByHowMuch() {
    String reason =
        "precision parity failed at step 5: validation loss 0.700000 with FP16 working weights"
            + " against 0.690000 with FP32 master weights, relative gap 0.01449 exceeds"
            + " spec.parity.maxRelativeGap 0.000";
    List<Pod> pods =
        job(
            "parity",
            1,
            job -> job.getSpec().parity.workingWeights.action = dev.mpj.api.ParitySpec.Action.FAIL);
    cluster.markExited(
        pods.get(0),
        3,
        "{\"reason\":\"" + reason + "\",\"step\":5,\"totalSteps\":300,\"loss\":0.7}");
    assertFailedWith("parity", "PrecisionParity", reason);
    assertThat(cluster.job("parity").getStatus().progress.step)
        .as("the final progress beside the reason")
        .isEqualTo(5);
  }

  @Test
  void aReplicaKilledMidStepRestartsTheGangAndTheHistorySaysWhatItsPeerSaw() {
    String peerSaw = "rank 0 of 2: the replicas failed: rank 1 closed its connection at step 42";
    List<Pod> pods = job("killed", 2, job -> {});
    pods.forEach(p -> cluster.markRunning(p, "10.0.0.1"));
    eventually(
        () -> assertThat(cluster.job("killed").getStatus().phase).isEqualTo(JobPhase.Running));
    // Rank 1 died by SIGKILL and left nothing; rank 0 saw its connection close. The operator may
    // stop the gang on rank 0's exit before rank 1's is reported: its pod is then gone.
    cluster.markExited(pods.get(0), 75, "{\"reason\":\"" + peerSaw + "\",\"step\":42}");
    cluster.markExitedUnlessDeleted(pods.get(1), 137);
    eventually(
        () -> {
          var status = cluster.job("killed").getStatus();
          assertThat(status.restarts).isEqualTo(1);
          assertThat(status.restartHistory)
              .singleElement()
              .satisfies(
                  r -> {
                    assertThat(r.attempt).isEqualTo(1);
                    assertThat(r.reason).isEqualTo("ReplicaFailed");
                    assertThat(r.message).contains(peerSaw).doesNotContain("\n");
                  });
        });
    assertThat(warnings("killed", "ReplicaFailed"))
        .anySatisfy(m -> assertThat(m).contains(peerSaw));
  }

  @Test
  void anUnexpectedErrorBeyondTheBackoffLimitFailsTheJobWithItsSummary() {
    String reason =
        "unexpected error: ArrayIndexOutOfBoundsException: Index 65536 out of bounds for length"
            + " 65536";
    List<Pod> pods = job("unexpected", 1, job -> job.getSpec().runPolicy.backoffLimit = 0);
    cluster.markRunning(pods.get(0), "10.0.0.1");
    cluster.markExited(pods.get(0), 1, "{\"reason\":\"" + reason + "\"}");
    assertFailedWith("unexpected", "BackoffLimitExceeded", reason);
  }

  private List<Pod> job(String name, int replicas, Consumer<MixedPrecisionJob> change) {
    MixedPrecisionJob job = MockCluster.quickstart(name);
    job.getSpec().replicas = new ReplicasSpec();
    job.getSpec().replicas.min = replicas;
    job.getSpec().replicas.max = replicas;
    change.accept(job);
    cluster.apply(job);
    eventually(() -> assertThat(cluster.pods(name)).hasSize(replicas));
    return cluster.pods(name);
  }

  /** Failed, Stalled and a Warning Event, each carrying the trainer's reason on one line. */
  private void assertFailedWith(String name, String why, String reason) {
    eventually(() -> assertThat(cluster.job(name).getStatus().phase).isEqualTo(JobPhase.Failed));
    var status = cluster.job(name).getStatus();
    for (String type : List.of("Failed", "Stalled")) {
      Condition c =
          status.conditions.stream()
              .filter(x -> x.getType().equals(type))
              .findFirst()
              .orElseThrow();
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo(why);
      assertThat(c.getMessage()).contains(reason).doesNotContain("\n");
    }
    assertThat(status.message).contains(reason);
    eventually(
        () ->
            assertThat(warnings(name, why))
                .singleElement()
                .asString()
                .contains(reason)
                .doesNotContain("\n"));
  }

  private List<String> warnings(String name, String reason) {
    return cluster.events(name).stream()
        .filter(e -> "Warning".equals(e.getType()) && reason.equals(e.getReason()))
        .map(Event::getMessage)
        .toList();
  }
}
