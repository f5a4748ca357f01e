package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.Crd;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.ReplicasSpec;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reference parity with schedule beside through the operator against the mock API server (8 GPUs):
 * the FP32 reference gang runs beside the job's own gang, with its own pods, config, attempts and
 * restarts; the figures reach the operator through the trainers' final reports only (no poll is
 * answered), and the job's end waits for the verdict.
 */
class BesideReferenceGangTest {
  private MockCluster cluster;
  private MpjOperator operator;

  @BeforeEach
  void start() {
    cluster = MockCluster.start();
    operator =
        MpjOperator.start(
            cluster.client, OperatorSettings.defaults().withProgressInterval(Duration.ofHours(1)));
  }

  @AfterEach
  void stop() {
    operator.close();
    cluster.close();
  }

  @Test
  void bothGangsTrainAtOnceAndTheJobEndsOnlyWithTheVerdict() {
    cluster.apply(beside("side"));
    eventually(() -> assertThat(cluster.pods("side")).hasSize(4));
    assertThat(cluster.pods("side"))
        .extracting(p -> p.getMetadata().getName())
        .containsExactly(
            "side-worker-0", "side-worker-0-reference", "side-worker-1", "side-worker-1-reference");
    List<Pod> job = gangOf("side", false);
    List<Pod> reference = gangOf("side", true);
    assertThat(config("side-config-reference")).contains("precision: fp32", "referenceRun: true");
    assertThat(config("side-config"))
        .contains("precision: fp16-mixed", "referenceParity")
        .doesNotContain("referenceRun");
    cluster.pods("side").forEach(p -> cluster.markRunning(p, "10.0.0.1"));

    // The job's own gang finishes first: the job waits for the reference's figures.
    cluster.markExited(job.get(1), 0);
    cluster.markExited(
        job.get(0),
        0,
        "{\"step\":100,\"totalSteps\":100,\"referenceParity\":{\"step\":40,\"candidate\":"
            + point("job", "fp16-mixed", 1.001, 0.70)
            + "}}");
    eventually(
        () -> assertThat(cluster.job("side").getStatus().parity.reference.candidate).isNotNull());
    MixedPrecisionJobStatus waiting = cluster.job("side").getStatus();
    assertThat(waiting.phase).as("not Succeeded before the verdict").isEqualTo(JobPhase.Running);
    assertThat(waiting.parity.reference.phase).isEqualTo("Waiting");
    assertThat(waiting.message).contains("waiting for the FP32 reference to reach it");
    assertThat(waiting.parity.reference.candidate.validationAccuracy).isEqualTo(0.70);

    cluster.markExited(reference.get(1), 0);
    cluster.markExited(
        reference.get(0),
        0,
        "{\"step\":40,\"totalSteps\":40,\"referenceParity\":{\"step\":40,\"reference\":"
            + point("reference", "fp32", 1.0, 0.70)
            + "}}");
    eventually(
        () -> assertThat(cluster.job("side").getStatus().phase).isEqualTo(JobPhase.Succeeded));
    MixedPrecisionJobStatus s = cluster.job("side").getStatus();
    assertThat(s.parity.reference.phase).isEqualTo("Compared");
    assertThat(s.parity.reference.withinBounds).isTrue();
    assertThat(s.parity.reference.reference.precision).isEqualTo("fp32");
    assertThat(s.parity.reference.candidate.precision).isEqualTo("fp16-mixed");
    assertThat(s.parity.reference.gang.phase).isEqualTo(JobPhase.Succeeded);
    assertThat(s.conditions)
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("PrecisionParity");
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getReason()).isEqualTo("ReferenceParityPassed");
            });
    eventually(
        () ->
            assertThat(cluster.events("side"))
                .extracting(Event::getReason)
                .contains("ReferenceStarted", "ReferenceSucceeded", "ReferenceParityPassed"));
  }

  @Test
  void theReferenceGangRestartsOnItsOwnCountersAndAGangWithoutFiguresCannotCompare() {
    MixedPrecisionJob side = beside("restarts");
    side.getSpec().runPolicy.backoffLimit = 1;
    cluster.apply(side);
    eventually(() -> assertThat(cluster.pods("restarts")).hasSize(4));
    cluster.pods("restarts").forEach(p -> cluster.markRunning(p, "10.0.0.1"));
    List<String> job = uids(gangOf("restarts", false));

    cluster.markExited(gangOf("restarts", true).get(1), 1);
    eventually(
        () -> {
          MixedPrecisionJobStatus s = cluster.job("restarts").getStatus();
          assertThat(s.parity.reference.gang.attempt).isEqualTo(2);
          assertThat(s.parity.reference.gang.restarts).isEqualTo(1);
          assertThat(gangOf("restarts", true))
              .hasSize(2)
              .allSatisfy(p -> assertThat(attemptOf(p)).isEqualTo(2));
        });
    MixedPrecisionJobStatus s = cluster.job("restarts").getStatus();
    assertThat(s.restarts).as("the job's own restarts").isZero();
    assertThat(s.attempt).isEqualTo(1);
    assertThat(uids(gangOf("restarts", false))).as("the job's gang is untouched").isEqualTo(job);

    // The reference fails again, past runPolicy.backoffLimit: it ends without its figures.
    gangOf("restarts", true).forEach(p -> cluster.markRunning(p, "10.0.0.2"));
    cluster.markExited(gangOf("restarts", true).get(0), 1);
    eventually(
        () -> {
          MixedPrecisionJobStatus t = cluster.job("restarts").getStatus();
          assertThat(t.parity.reference.gang.phase).isEqualTo(JobPhase.Failed);
          assertThat(t.parity.reference.phase).isEqualTo("CannotCompare");
          assertThat(t.parity.reference.message)
              .isEqualTo("the FP32 reference ended without reaching step 40; no comparison");
          assertThat(t.conditions)
              .anySatisfy(
                  c -> {
                    assertThat(c.getType()).isEqualTo("PrecisionParity");
                    assertThat(c.getStatus()).isEqualTo("Unknown");
                    assertThat(c.getReason()).isEqualTo("CannotCompare");
                  });
        });
    assertThat(cluster.job("restarts").getStatus().phase)
        .as("the job itself trains on")
        .isEqualTo(JobPhase.Running);
    eventually(
        () ->
            assertThat(cluster.events("restarts"))
                .extracting(Event::getReason)
                .contains("ReferenceRestarting", "ReferenceFailed", "CannotCompare"));
  }

  @Test
  void neitherGangStartsUnlessBothFitAtOnce() {
    MixedPrecisionJob big = beside("big");
    // 4 replicas of 2 GPUs per gang: 8 GPUs each, 16 for both; the node has 8.
    big.getSpec().replicas = new ReplicasSpec();
    big.getSpec().replicas.min = 4;
    big.getSpec().replicas.max = 4;
    big.getSpec().resources.gpusPerReplica = 2;
    cluster.apply(big);
    eventually(
        () ->
            assertThat(cluster.job("big").getStatus().message)
                .contains(
                    "waiting for GPUs",
                    "schedule beside starts both gangs at once",
                    "the job's own gang does not fit beside it"));
    assertThat(cluster.pods("big")).isEmpty();
  }

  private MixedPrecisionJob beside(String name) {
    MixedPrecisionJob job = MockCluster.quickstart(name);
    job.getSpec().parity = new ParitySpec();
    job.getSpec().parity.reference = new ParitySpec.Reference();
    job.getSpec().parity.reference.steps = 40;
    job.getSpec().parity.reference.schedule = ParitySpec.Schedule.BESIDE;
    job.getSpec().parity.reference.action = ParitySpec.Action.WARN;
    return job;
  }

  private static List<String> uids(List<Pod> pods) {
    return pods.stream().map(p -> p.getMetadata().getUid()).toList();
  }

  private List<Pod> gangOf(String name, boolean reference) {
    return cluster.pods(name).stream()
        .filter(p -> p.getMetadata().getName().endsWith("-reference") == reference)
        .filter(p -> p.getMetadata().getDeletionTimestamp() == null)
        .sorted(
            (a, b) ->
                a.getMetadata()
                    .getLabels()
                    .get(Crd.LABEL_REPLICA_INDEX)
                    .compareTo(b.getMetadata().getLabels().get(Crd.LABEL_REPLICA_INDEX)))
        .toList();
  }

  private String config(String name) {
    return cluster
        .client
        .configMaps()
        .inNamespace(MockCluster.NS)
        .withName(name)
        .get()
        .getData()
        .get("config.yaml");
  }

  private static int attemptOf(Pod p) {
    return Integer.parseInt(p.getMetadata().getLabels().get(Crd.LABEL_ATTEMPT));
  }

  private static String point(String run, String precision, double loss, double accuracy) {
    return "{\"run\":\""
        + run
        + "\",\"precision\":\""
        + precision
        + "\",\"step\":40,\"validationLoss\":"
        + loss
        + ",\"validationAccuracy\":"
        + accuracy
        + ",\"trainingLoss\":"
        + (loss + 0.3)
        + ",\"windowFrom\":21,\"windowTo\":40}";
  }
}
