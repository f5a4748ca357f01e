package dev.mpj.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.CheckpointStatus;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParityStatus;
import dev.mpj.api.ProgressStatus;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.SizingSettings;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mpj status: a job at a glance, read from the fabric8 mock API server through a kubeconfig. */
class StatusCommandTest {

  @TempDir Path dir;

  static MixedPrecisionJob runningQuickstart() {
    MixedPrecisionJob job = MockCluster.quickstart("digits");
    MixedPrecisionJobStatus s = new MixedPrecisionJobStatus();
    s.phase = JobPhase.Running;
    s.attempt = 2;
    s.restarts = 1;
    s.replicas = 2;
    s.readyReplicas = 2;
    s.sizing =
        new MemorySizer(SizingSettings.defaults())
            .plan(job.getSpec(), dev.mpj.operator.sizing.ClusterCapacity.unknown())
            .status();
    s.progress = new ProgressStatus();
    s.progress.step = 150L;
    s.progress.totalSteps = 300L;
    s.progress.loss = 0.8125;
    s.progress.lossScale = 32768.0;
    s.progress.skippedSteps = 2L;
    s.progress.samplesPerSecond = 812.5;
    s.parity = new ParityStatus();
    s.parity.step = 100L;
    s.parity.fp16Loss = 0.9;
    s.parity.fp32Loss = 0.891;
    s.parity.relativeGap = 0.0101;
    s.parity.withinBound = true;
    s.lastCheckpoint = new CheckpointStatus();
    s.lastCheckpoint.step = 150L;
    s.conditions =
        List.of(
            new ConditionBuilder()
                .withType("Ready")
                .withStatus("True")
                .withReason("AllReplicasRunning")
                .build(),
            new ConditionBuilder().withType("Stalled").withStatus("False").build());
    job.setStatus(s);
    return job;
  }

  @Test
  void aRunningJobAtAGlance() {
    List<String> lines = StatusCommand.lines(runningQuickstart());
    assertThat(lines.get(0))
        .isEqualTo(
            "Job team-a/digits: Running, fp16-mixed, attempt 2 (1 restart), 2/2 replicas ready");
    assertThat(lines.get(1))
        .startsWith("Sizing:   fp16-mixed, 2 replicas x micro-batch 32 x accumulation 1, 2 GPUs")
        .contains("on 16.0 GiB GPUs (spec)");
    assertThat(lines.get(2))
        .isEqualTo(
            "Progress: step 150 of 300 (50.0%), loss 0.8125, loss scale 32768, 2 skipped, 812.5 samples/s");
    assertThat(lines.get(3))
        .isEqualTo(
            "Parity:   working weights, step 100: fp16 loss 0.9000, fp32 loss 0.8910, gap 1.01% within 2.00% (action warn)");
    assertThat(lines.get(4)).isEqualTo("Checkpoint: step 150");
    assertThat(lines.get(5)).isEqualTo("Health:   Ready=True (AllReplicasRunning), Stalled=False");
  }

  @Test
  void aJobNotYetReconciledSaysSo() {
    MixedPrecisionJob job = MockCluster.quickstart("new");
    job.getSpec().parity = null;
    assertThat(StatusCommand.lines(job))
        .containsExactly(
            "Job team-a/new: not reconciled yet, fp16-mixed, attempt 0 (0 restarts), -/- replicas ready",
            "Sizing:   not sized yet",
            "Progress: no progress reported yet",
            "Parity:   no parity check (spec.parity unset)",
            "Checkpoint: none yet",
            "Health:   no conditions yet");
  }

  @Test
  void readsTheJobFromTheClusterOfTheKubeconfig() throws IOException {
    try (MockCluster cluster = MockCluster.start()) {
      MixedPrecisionJob job = runningQuickstart();
      MixedPrecisionJobStatus status = job.getStatus();
      MixedPrecisionJob created = cluster.apply(job);
      created.setStatus(status);
      cluster.client.resource(created).updateStatus();
      Path kubeconfig =
          Files.writeString(
              dir.resolve("kubeconfig"),
              """
              apiVersion: v1
              kind: Config
              clusters:
              - {name: mock, cluster: {server: "%s", insecure-skip-tls-verify: true}}
              users:
              - {name: tester, user: {token: secret}}
              contexts:
              - {name: mock, context: {cluster: mock, user: tester, namespace: team-a}}
              current-context: mock
              """
                  .formatted(cluster.client.getMasterUrl()));
      FleetPlanCommandTest.Run table =
          FleetPlanCommandTest.mpj(null, "status", "digits", "--kubeconfig", kubeconfig.toString());
      assertThat(table.code()).as(table.err()).isZero();
      assertThat(table.out())
          .isEqualTo(String.join("\n", StatusCommand.lines(runningQuickstart())) + "\n");
      FleetPlanCommandTest.Run json =
          FleetPlanCommandTest.mpj(
              null,
              "status",
              "digits",
              "-n",
              MockCluster.NS,
              "--kubeconfig",
              kubeconfig.toString(),
              "-o",
              "json");
      assertThat(json.code()).isZero();
      JsonNode summary = new ObjectMapper().readTree(json.out());
      assertThat(summary.get("phase").asText()).isEqualTo("Running");
      assertThat(summary.at("/progress/step").asLong()).isEqualTo(150);
      assertThat(summary.at("/parity/withinBound").asBoolean()).isTrue();
      assertThat(summary.at("/sizing/plan/replicas").asInt()).isEqualTo(2);
      FleetPlanCommandTest.Run yaml =
          FleetPlanCommandTest.mpj(
              null, "status", "digits", "--kubeconfig", kubeconfig.toString(), "-o", "yaml");
      assertThat(yaml.out()).contains("phase: Running").contains("readyReplicas: 2");
      FleetPlanCommandTest.Run absent =
          FleetPlanCommandTest.mpj(
              null, "status", "absent", "-n", "team-b", "--kubeconfig", kubeconfig.toString());
      assertThat(absent.code()).isEqualTo(1);
      assertThat(absent.err())
          .isEqualTo("status: no MixedPrecisionJob absent in namespace team-b\n");
    }
  }
}
