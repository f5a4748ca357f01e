package dev.mpj.operator.gang;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.TrainerContract;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.sizing.ClusterCapacity;
import io.fabric8.kubernetes.api.model.ContainerImage;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Sizing reads the cluster from a cache that watches nodes and pods: after the first sizing no
 * request reaches the API server, the GPUs other pods hold count as taken and the job's own do not,
 * and a change of the cluster reaches the figures once its watch event arrives.
 */
class ClusterObserverTest {

  @Test
  void sizesFromTheWatchedCacheWithoutAskingTheApiServerAgain() {
    try (MockCluster cluster = MockCluster.start();
        ClusterObserver observer = new ClusterObserver(cluster.client)) {
      MixedPrecisionJob job = MockCluster.quickstart("sized");
      job.getMetadata().setUid("uid-of-sized");
      // gpu-node-1 offers 8 GPUs; the first sizing reads the cluster and starts the watches.
      assertThat(observer.capacityFor(job)).isEqualTo(new ClusterCapacity(16_384L << 20, 8));

      Pod other = pod("other", "gpu-node-1", "Running", 3, "uid-of-another-job");
      cluster.client.resource(other).create();
      cluster.client.resource(pod("own", "gpu-node-1", "Running", 2, "uid-of-sized")).create();
      cluster.client.resource(pod("done", "gpu-node-1", "Succeeded", 4, "x")).create();
      cluster.client.resource(pod("unbound", null, "Pending", 1, "x")).create();
      eventually(() -> assertThat(observer.capacityFor(job).freeGpus()).isEqualTo(5));

      int requests = cluster.server().getRequestCount();
      for (int i = 0; i < 20; i++) {
        assertThat(observer.capacityFor(job).freeGpus()).isEqualTo(5);
      }
      assertThat(cluster.server().getRequestCount())
          .as("requests while sizing")
          .isEqualTo(requests);

      cluster.client.resource(other).delete();
      eventually(() -> assertThat(observer.capacityFor(job).freeGpus()).isEqualTo(8));
      cluster
          .client
          .nodes()
          .withName("gpu-node-1")
          .edit(n -> new NodeBuilder(n).editOrNewSpec().withUnschedulable(true).endSpec().build());
      eventually(() -> assertThat(observer.capacityFor(job).freeGpus()).isZero());
    }
  }

  @Test
  void aPodHoldsGpusWhileBoundAndUnfinished() {
    assertThat(CapacityCache.GpuHold.of(pod("p", "n1", "Running", 2, "u1")))
        .isEqualTo(new CapacityCache.GpuHold("n1", 2, List.of("u1")));
    assertThat(CapacityCache.GpuHold.of(pod("p", "n1", "Pending", 1, "u1"))).isNotNull();
    assertThat(CapacityCache.GpuHold.of(pod("p", null, "Pending", 2, "u1"))).isNull();
    assertThat(CapacityCache.GpuHold.of(pod("p", "n1", "Succeeded", 2, "u1"))).isNull();
    assertThat(CapacityCache.GpuHold.of(pod("p", "n1", "Failed", 2, "u1"))).isNull();
    assertThat(CapacityCache.GpuHold.of(pod("p", "n1", "Running", 0, "u1"))).isNull();
  }

  @Test
  void theSizingViewOfANodeKeepsWhatSizingReadsAndNotItsImages() {
    Node node =
        new NodeBuilder()
            .withNewMetadata()
            .withName("n1")
            .withLabels(Map.of(TrainerContract.GPU_MEMORY_LABEL, "81920", "pool", "train"))
            .withAnnotations(Map.of("big", "x".repeat(1000)))
            .endMetadata()
            .withNewSpec()
            .withUnschedulable(false)
            .endSpec()
            .withNewStatus()
            .withAllocatable(
                Map.of(TrainerContract.GPU_RESOURCE, new Quantity("8"), "cpu", new Quantity("64")))
            .withImages(new ContainerImage(List.of("trainer:1"), 5_000_000_000L))
            .endStatus()
            .build();
    Node view = CapacityCache.sizingView(node);
    assertThat(view.getStatus().getImages()).isEmpty();
    assertThat(view.getMetadata().getAnnotations()).isEmpty();
    for (Map<String, String> selector : List.of(Map.<String, String>of(), Map.of("pool", "x"))) {
      assertThat(ClusterCapacity.observe(List.of(view), List.of(), selector, 2))
          .isEqualTo(ClusterCapacity.observe(List.of(node), List.of(), selector, 2));
    }
    node.getSpec().setUnschedulable(true);
    assertThat(
            ClusterCapacity.observe(
                List.of(CapacityCache.sizingView(node)), List.of(), Map.of(), 1))
        .isEqualTo(new ClusterCapacity(null, 0));
  }

  private static Pod pod(String name, String node, String phase, int gpus, String ownerUid) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(MockCluster.NS)
        .addNewOwnerReference()
        .withApiVersion("mpj.dev/v1alpha1")
        .withKind("MixedPrecisionJob")
        .withName("owner")
        .withUid(ownerUid)
        .endOwnerReference()
        .endMetadata()
        .withNewSpec()
        .withNodeName(node)
        .addNewContainer()
        .withName("trainer")
        .withImage("trainer")
        .withNewResources()
        .withLimits(
            gpus == 0
                ? Map.of()
                : Map.of(TrainerContract.GPU_RESOURCE, new Quantity(String.valueOf(gpus))))
        .endResources()
        .endContainer()
        .endSpec()
        .withNewStatus()
        .withPhase(phase)
        .endStatus()
        .build();
  }
}
