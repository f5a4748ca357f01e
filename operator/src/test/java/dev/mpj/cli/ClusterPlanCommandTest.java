package dev.mpj.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.operator.MockCluster;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** mpj plan --cluster against the fabric8 mock API server, through a kubeconfig. */
class ClusterPlanCommandTest {

  @TempDir Path dir;
  private MockCluster cluster;
  private Path kubeconfig;

  @BeforeEach
  void start() throws IOException {
    cluster = MockCluster.start();
    // the current context points nowhere: only --context mock reaches the mock server
    kubeconfig =
        Files.writeString(
            dir.resolve("kubeconfig"),
            """
            apiVersion: v1
            kind: Config
            clusters:
            - name: mock
              cluster: {server: "%s", insecure-skip-tls-verify: true}
            - name: nowhere
              cluster: {server: "http://127.0.0.1:9"}
            users:
            - name: tester
              user: {token: secret}
            contexts:
            - name: mock
              context: {cluster: mock, user: tester, namespace: team-a}
            - name: nowhere
              context: {cluster: nowhere, user: tester}
            current-context: nowhere
            """
                .formatted(cluster.client.getMasterUrl()));
  }

  @AfterEach
  void stop() {
    cluster.close();
  }

  @Test
  void theClustersGpusAndJobsDecideWhatFitsNowAndWhatWaits() throws IOException {
    // the mock's one node: 8 Tesla-T4 of 16 GiB; a running job's pods hold 6 of them
    MixedPrecisionJob running = withPhase(MockCluster.quickstart("running"), JobPhase.Running);
    applyWithStatus(running);
    cluster
        .client
        .pods()
        .inNamespace(MockCluster.NS)
        .resource(
            new PodBuilder()
                .withNewMetadata()
                .withName("running-0")
                .endMetadata()
                .withNewSpec()
                .withNodeName("gpu-node-1")
                .addNewContainer()
                .withName("trainer")
                .withNewResources()
                .addToLimits("nvidia.com/gpu", new Quantity("6"))
                .endResources()
                .endContainer()
                .endSpec()
                .build())
        .create();
    applyWithStatus(withPhase(MockCluster.quickstart("waiting"), JobPhase.Pending));
    Path newJob = FleetPlanCommandTest.EXAMPLES.resolve("transformer-multi-replica.yaml");

    FleetPlanCommandTest.Run run =
        FleetPlanCommandTest.mpj(
            null,
            "plan",
            "--cluster",
            "--kubeconfig",
            kubeconfig.toString(),
            "--context",
            "mock",
            "-f",
            newJob.toString(),
            "-o",
            "json");
    assertThat(run.code()).as(run.err()).isZero();
    JsonNode plan = FleetPlanCommandTest.validJson(run.out());
    JsonNode pool = plan.at("/cluster/pools/0");
    assertThat(pool.get("product").asText()).isEqualTo("Tesla-T4");
    assertThat(pool.get("catalogGpu").asText()).isEqualTo("T4");
    assertThat(pool.get("gpus").asInt()).isEqualTo(8);
    assertThat(pool.get("freeGpus").asInt()).isEqualTo(2);
    JsonNode jobs = plan.at("/cluster/jobs");
    assertThat(jobs)
        .extracting(j -> j.get("name").asText() + ":" + j.get("state").asText())
        .containsExactly("running:running", "waiting:waiting", "tiny-lm:new");
    // the waiting quick-start (2 replicas of 1 GPU) takes the 2 free GPUs; tiny-lm then waits
    assertThat(jobs.at("/1/asWritten/fits").asBoolean()).isTrue();
    assertThat(jobs.at("/1/asWritten/gpus").asInt()).isEqualTo(2);
    assertThat(jobs.at("/2/asWritten/fits").asBoolean()).isFalse();
    assertThat(jobs.at("/2/asWritten/reason").asText()).contains("waiting for 2 GPUs");
    assertThat(plan.at("/cluster/summary/fitNow").asInt()).isEqualTo(1);
    assertThat(plan.at("/cluster/summary/waitNow").asInt()).isEqualTo(1);
    // the fleet part plans the cluster's jobs and the new one on the cluster's GPU model
    assertThat(plan.at("/gpus/0/name").asText()).isEqualTo("Tesla-T4");
    assertThat(plan.at("/gpus/0/peakFp16Tflops").asDouble()).isEqualTo(65.0);
    assertThat(plan.get("jobs")).hasSize(3);

    FleetPlanCommandTest.Run table =
        FleetPlanCommandTest.mpj(
            null, "plan", "--cluster", "--kubeconfig", kubeconfig.toString(), "--context", "mock");
    assertThat(table.code()).as(table.err()).isZero();
    assertThat(table.out())
        .contains("Cluster: 1 GPU pools; of the waiting and new jobs 1 fit now, 0 wait")
        .containsPattern(
            "team-a/waiting\\s+waiting\\s+fp16-mixed\\s+fits on Tesla-T4 \\(2 GPUs\\)");
  }

  @Test
  void theNamespaceFlagLimitsTheJobsAndAnUnreachableClusterIsBadInput() {
    cluster.apply(withPhase(MockCluster.quickstart("waiting"), JobPhase.Pending));
    FleetPlanCommandTest.Run other =
        FleetPlanCommandTest.mpj(
            null,
            "plan",
            "--cluster",
            "--kubeconfig",
            kubeconfig.toString(),
            "--context",
            "mock",
            "-n",
            "elsewhere",
            "-o",
            "json");
    assertThat(other.code()).as(other.err()).isZero();
    assertThat(other.out()).contains("\"jobs\" : [ ]");
    FleetPlanCommandTest.Run nowhere =
        FleetPlanCommandTest.mpj(null, "plan", "--cluster", "--kubeconfig", kubeconfig.toString());
    assertThat(nowhere.code()).isEqualTo(MpjCommand.EXIT_BAD_INPUT);
    assertThat(nowhere.err()).startsWith("plan: cannot read the cluster");
  }

  /** Creates the job, then writes its status as the operator would (create leaves status out). */
  private void applyWithStatus(MixedPrecisionJob job) {
    MixedPrecisionJobStatus status = job.getStatus();
    MixedPrecisionJob created = cluster.apply(job);
    created.setStatus(status);
    cluster.client.resource(created).updateStatus();
  }

  private static MixedPrecisionJob withPhase(MixedPrecisionJob job, JobPhase phase) {
    job.setStatus(new MixedPrecisionJobStatus());
    job.getStatus().phase = phase;
    return job;
  }
}
