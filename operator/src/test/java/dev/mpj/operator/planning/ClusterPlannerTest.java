package dev.mpj.operator.planning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.DataShape;
import dev.mpj.api.JobFiles;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.Precision;
import dev.mpj.operator.planning.ClusterPlanner.ClusterJob;
import dev.mpj.operator.planning.ClusterPlanner.ClusterPlan;
import dev.mpj.operator.planning.ClusterPlanner.State;
import dev.mpj.operator.sizing.GpuMemory;
import dev.mpj.operator.sizing.JobSizing;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.SizingSettings;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.io.IOException;
import java.nio.file.Files;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterPlannerTest {

  private static final long MIB = 1L << 20;
  private final GpuCatalog catalog = GpuCatalog.builtIn();
  private final MemorySizer sizer = new MemorySizer(SizingSettings.defaults());

  static Node node(String name, Map<String, String> labels, Map<String, String> allocatable) {
    Map<String, Quantity> q = new HashMap<>();
    allocatable.forEach((k, v) -> q.put(k, new Quantity(v)));
    return new NodeBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(labels)
        .endMetadata()
        .withNewStatus()
        .withAllocatable(q)
        .endStatus()
        .build();
  }

  static Map<String, String> gfd(String product, int memoryMib, int count) {
    return Map.of(
        ClusterInventory.PRODUCT_LABEL, product,
        ClusterInventory.MEMORY_LABEL, String.valueOf(memoryMib),
        ClusterInventory.COUNT_LABEL, String.valueOf(count));
  }

  static Pod pod(String node, String resource, int gpus, String phase) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(node + "-" + resource + "-" + phase)
        .withNamespace("ns")
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("c")
        .withNewResources()
        .addToLimits(resource, new Quantity(String.valueOf(gpus)))
        .endResources()
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .endStatus()
        .build();
  }

  @Test
  void poolsComeFromFeatureDiscoveryLabelsLessWhatPodsHold() {
    List<Node> nodes =
        List.of(
            node("a100-1", gfd("NVIDIA-A100-SXM4-80GB", 81920, 8), Map.of("nvidia.com/gpu", "8")),
            node("a100-2", gfd("NVIDIA-A100-SXM4-80GB", 81920, 8), Map.of("nvidia.com/gpu", "8")),
            node("t4-1", gfd("Tesla-T4", 15360, 4), Map.of("nvidia.com/gpu", "4")),
            node(
                "mig-single",
                gfd("NVIDIA-A100-SXM4-40GB-MIG-3g.20gb", 19968, 2),
                Map.of("nvidia.com/gpu", "2")),
            node(
                "mig-mixed",
                Map.of(
                    ClusterInventory.PRODUCT_LABEL,
                    "NVIDIA-H100-80GB-HBM3",
                    ClusterInventory.MIG_STRATEGY_LABEL,
                    "mixed",
                    "nvidia.com/mig-1g.10gb.count",
                    "7",
                    "nvidia.com/mig-1g.10gb.memory",
                    "9856"),
                Map.of("nvidia.com/mig-1g.10gb", "7")),
            node("cpu", Map.of(), Map.of("cpu", "64")));
    List<Pod> pods =
        List.of(
            pod("a100-1", "nvidia.com/gpu", 6, "Running"),
            pod("a100-2", "nvidia.com/gpu", 8, "Succeeded"),
            pod("mig-mixed", "nvidia.com/mig-1g.10gb", 3, "Running"));
    List<GpuPool> pools = ClusterInventory.observe(nodes, pods, catalog);
    assertThat(pools)
        .extracting(GpuPool::product)
        .containsExactly(
            "NVIDIA-H100-80GB-HBM3-MIG-1g.10gb",
            "Tesla-T4",
            "NVIDIA-A100-SXM4-40GB-MIG-3g.20gb",
            "NVIDIA-A100-SXM4-80GB");
    GpuPool a100 = pools.get(3);
    assertThat(a100.gpus()).isEqualTo(16);
    assertThat(a100.freePerNode()).containsExactly(2, 8); // the finished pod holds nothing
    assertThat(a100.memoryBytes()).isEqualTo(81920 * MIB);
    assertThat(a100.gpu().name()).isEqualTo("A100-80GB");
    GpuPool single = pools.get(2);
    assertThat(single.migProfile()).isEqualTo("3g.20gb");
    assertThat(single.usableByMpj()).isTrue();
    assertThat(single.gpu()).isNull();
    GpuPool mixed = pools.get(0);
    assertThat(mixed.usableByMpj()).isFalse();
    assertThat(mixed.freeGpus()).isEqualTo(4);
    assertThat(pools.get(1).gpu().name()).isEqualTo("T4");
  }

  @Test
  void waitingJobsArePlacedInOrderAndMixedPrecisionLeavesRoomForMore() throws IOException {
    MixedPrecisionJob lm = job("transformer-1b.yaml", "lm-1b", JobPhase.Pending);
    lm.getSpec().precision = Precision.FP32;
    MixedPrecisionJob running = job("quickstart.yaml", "running", JobPhase.Running);
    MixedPrecisionJob done = job("quickstart.yaml", "done", JobPhase.Succeeded);
    MixedPrecisionJob churn = job("tabular-mlp.yaml", "churn", JobPhase.Pending);
    // a pool of exactly the GPUs the FP32 job takes, as the memory model sizes it on 80 GiB
    JobSizing s =
        sizer.size(
            lm.getSpec(),
            DataShape.of(lm.getSpec().data),
            new GpuMemory(81920 * MIB, GpuMemory.NODE_LABEL),
            null);
    int fp32Gpus = s.fp32().gpus();
    int mixedGpus = s.fp16Mixed().gpus();
    assertThat(mixedGpus).isLessThan(fp32Gpus);
    List<GpuPool> pools =
        ClusterInventory.observe(
            List.of(
                node(
                    "h100",
                    gfd("NVIDIA-H100-80GB-HBM3", 81920, fp32Gpus),
                    Map.of("nvidia.com/gpu", String.valueOf(fp32Gpus)))),
            List.of(),
            catalog);
    ClusterPlan plan =
        new ClusterPlanner(sizer)
            .plan(
                pools,
                List.of(
                    ClusterJob.inCluster(running),
                    ClusterJob.inCluster(done),
                    ClusterJob.inCluster(lm),
                    new ClusterJob(churn, State.NEW)));
    assertThat(plan.jobs())
        .extracting(o -> o.job().state())
        .containsExactly(State.RUNNING, State.INACTIVE, State.WAITING, State.NEW);
    assertThat(plan.jobs().get(0).asWritten()).isNull();
    var lmOutcome = plan.jobs().get(2);
    assertThat(lmOutcome.asWritten().fits()).isTrue();
    assertThat(lmOutcome.asWritten().gpus()).isEqualTo(fp32Gpus);
    assertThat(lmOutcome.fp16Mixed().gpus()).isEqualTo(mixedGpus);
    // FP32 takes the whole pool and the next job waits; in FP16 mixed both fit
    var churnOutcome = plan.jobs().get(3);
    assertThat(churnOutcome.asWritten().fits()).isFalse();
    assertThat(churnOutcome.asWritten().reason()).contains("waiting for 1 GPUs");
    assertThat(churnOutcome.fp16Mixed().fits()).isTrue();
    assertThat(plan.fitNow()).isEqualTo(1);
    assertThat(plan.waitNow()).isEqualTo(1);
    assertThat(plan.fitInMixed()).isEqualTo(2);
  }

  @Test
  void aJobThatFitsNoGpuOfTheClusterWaitsAndSaysWhy() throws IOException {
    MixedPrecisionJob lm = job("transformer-1b.yaml", "lm-1b", JobPhase.Pending);
    List<GpuPool> pools =
        ClusterInventory.observe(
            List.of(node("t4", gfd("Tesla-T4", 15360, 4), Map.of("nvidia.com/gpu", "4"))),
            List.of(),
            catalog);
    ClusterPlan plan = new ClusterPlanner(sizer).plan(pools, List.of(ClusterJob.inCluster(lm)));
    assertThat(plan.jobs().get(0).asWritten().fits()).isFalse();
    assertThat(plan.jobs().get(0).asWritten().reason()).startsWith("Tesla-T4: fp16-mixed needs");
    assertThat(plan.jobs().get(0).fp16Mixed().fits()).isFalse();
    assertThat(
            new ClusterPlanner(sizer)
                .plan(List.of(), List.of(ClusterJob.inCluster(lm)))
                .jobs()
                .get(0)
                .asWritten()
                .reason())
        .contains("no node with nvidia.com/gpu");
  }

  private static MixedPrecisionJob job(String example, String name, JobPhase phase)
      throws IOException {
    MixedPrecisionJob job =
        JobFiles.parse(Files.readString(FleetPlannerTest.EXAMPLES.resolve(example)));
    job.getMetadata().setName(name);
    job.setStatus(new MixedPrecisionJobStatus());
    job.getStatus().phase = phase;
    return job;
  }
}
