package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.Crd;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParitySpec;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Reference parity through the operator against the mock API server, with no /progress poll ever
 * answered: the verdict reaches the status only through the trainers' final reports (termination
 * messages). So a warn run that ends between the compared step and the next poll keeps its verdict.
 */
class ReferenceParityVerdictTest {
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
  void aWarnRunThatEndsBeforeAnyPollKeepsItsVerdictFromTheFinalReport() {
    runBothGangs(cluster, "warned", false);
    MixedPrecisionJobStatus s = cluster.job("warned").getStatus();
    assertThat(s.phase).isEqualTo(JobPhase.Succeeded);
    assertThat(s.parity.reference.phase).isEqualTo("Compared");
    assertThat(s.parity.reference.withinBounds).isFalse();
    assertThat(s.parity.reference.accuracyDropPoints).isEqualTo(57.5);
    assertThat(s.parity.reference.reference.validationAccuracy).isEqualTo(0.70);
    assertThat(s.conditions)
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("PrecisionParity");
              assertThat(c.getStatus()).isEqualTo("False");
              assertThat(c.getReason()).isEqualTo("ParityExceeded");
            });
    eventually(
        () ->
            assertThat(cluster.events("warned"))
                .extracting(Event::getReason)
                .contains("ReferenceFinished", "ParityExceeded"));
  }

  @Test
  void aPassingRunRecordsItsVerdictTheSameWay() {
    runBothGangs(cluster, "passed", true);
    MixedPrecisionJobStatus s = cluster.job("passed").getStatus();
    assertThat(s.parity.reference.withinBounds).isTrue();
    assertThat(s.conditions)
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("PrecisionParity");
              assertThat(c.getReason()).isEqualTo("ReferenceParityPassed");
            });
  }

  /**
   * The quick-start job with reference parity (action warn): its FP32 reference gang runs and rank
   * 0 ends with its figures in its final report; then the mixed gang's rank 0 ends with the
   * comparison in its final report (exit 0, as warn does). No poll is answered in between.
   */
  static void runBothGangs(MockCluster cluster, String name, boolean within) {
    MixedPrecisionJob job = MockCluster.quickstart(name);
    job.getSpec().parity = new ParitySpec();
    job.getSpec().parity.reference = new ParitySpec.Reference();
    job.getSpec().parity.reference.steps = 40;
    job.getSpec().parity.reference.action = ParitySpec.Action.WARN;
    cluster.apply(job);

    List<Pod> reference = running(cluster, name, 1);
    cluster.markExited(
        rank0(reference),
        0,
        "{\"step\":40,\"totalSteps\":40,\"referenceParity\":{\"step\":40,\"reference\":"
            + point("reference", "fp32", 1.0, 0.70)
            + "}}");
    eventually(
        () ->
            assertThat(cluster.job(name).getStatus().parity.reference.phase)
                .isEqualTo("ReferenceFinished"));

    List<Pod> mixed = running(cluster, name, 2);
    String candidate =
        within ? point("job", "fp16-mixed", 1.001, 0.70) : point("job", "fp16-mixed", 2.0, 0.125);
    cluster.markExited(
        rank0(mixed),
        0,
        "{\"step\":100,\"totalSteps\":100,\"referenceParity\":{\"step\":40,\"reference\":"
            + point("reference", "fp32", 1.0, 0.70)
            + ",\"candidate\":"
            + candidate
            + (within
                ? ",\"accuracyDropPoints\":0.0,\"validationLossGap\":0.001,"
                    + "\"trainingLossGap\":0.0008,\"withinBounds\":true,"
                    + "\"message\":\"within bounds\"}}"
                : ",\"accuracyDropPoints\":57.5,\"validationLossGap\":1.0,"
                    + "\"trainingLossGap\":0.77,\"withinBounds\":false,"
                    + "\"exceeded\":[\"maxAccuracyDrop\",\"maxRelativeLossGap\"],"
                    + "\"message\":\"accuracy drop 57.5 points\"}}"));
    eventually(() -> assertThat(cluster.job(name).getStatus().phase).isEqualTo(JobPhase.Succeeded));
  }

  private static List<Pod> running(MockCluster cluster, String name, int attempt) {
    eventually(
        () -> assertThat(cluster.pods(name)).filteredOn(p -> attemptOf(p) == attempt).hasSize(2));
    List<Pod> pods = cluster.pods(name).stream().filter(p -> attemptOf(p) == attempt).toList();
    pods.forEach(p -> cluster.markRunning(p, "10.0.0.1"));
    return pods;
  }

  private static int attemptOf(Pod p) {
    return Integer.parseInt(p.getMetadata().getLabels().get(Crd.LABEL_ATTEMPT));
  }

  private static Pod rank0(List<Pod> pods) {
    return pods.stream().filter(p -> p.getMetadata().getName().endsWith("-0")).findFirst().get();
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
