package dev.mpj.operator.gang;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.resources.JobChildren;
import dev.mpj.operator.resources.ReplicaPods;
import dev.mpj.operator.sizing.ClusterCapacity;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Reads what the cluster offers a job when it is sized: nodes and the GPUs their pods hold. */
public final class ClusterObserver {
  private static final Logger LOG = LoggerFactory.getLogger(ClusterObserver.class);
  /** Set by NVIDIA GPU feature discovery, in MiB. */
  public static final String GPU_MEMORY_LABEL = "nvidia.com/gpu.memory";

  private final KubernetesClient client;

  public ClusterObserver(KubernetesClient client) {
    this.client = client;
  }

  /** The capacity for a new attempt of {@code job}; its own pods do not count as taken. */
  public ClusterCapacity capacityFor(MixedPrecisionJob job) {
    try {
      List<Node> nodes = client.nodes().list().getItems();
      List<Pod> pods = client.pods().inAnyNamespace().list().getItems();
      var template = job.getSpec().template;
      Map<String, String> selector = template == null || template.nodeSelector == null ? Map.of() : template.nodeSelector;
      List<Pod> others = pods.stream().filter(p -> !JobChildren.ownedBy(p, job)).toList();
      return capacity(nodes, others, selector);
    } catch (KubernetesClientException e) {
      LOG.warn("cannot read nodes and pods for sizing ({}); sizing without cluster figures", e.getMessage());
      return ClusterCapacity.unknown();
    }
  }

  /**
   * The smallest GPU memory label among schedulable nodes that match the selector, and their
   * allocatable GPUs less those requested by the pods bound to them that have not finished.
   */
  public static ClusterCapacity capacity(List<Node> nodes, List<Pod> pods, Map<String, String> nodeSelector) {
    List<Node> matching =
        nodes.stream()
            .filter(n -> n.getSpec() == null || !Boolean.TRUE.equals(n.getSpec().getUnschedulable()))
            .filter(n -> labels(n).entrySet().containsAll(nodeSelector.entrySet()))
            .toList();
    Long memory =
        matching.stream()
            .map(n -> labels(n).get(GPU_MEMORY_LABEL))
            .filter(v -> v != null && !v.isBlank())
            .map(ClusterObserver::mebibytesToBytes)
            .filter(v -> v != null)
            .min(Long::compare)
            .orElse(null);
    long allocatable =
        matching.stream()
            .map(n -> n.getStatus() == null || n.getStatus().getAllocatable() == null
                ? null : n.getStatus().getAllocatable().get(ReplicaPods.GPU_RESOURCE))
            .filter(q -> q != null)
            .mapToLong(q -> q.getNumericalAmount().longValue())
            .sum();
    Set<String> names = matching.stream().map(n -> n.getMetadata().getName()).collect(Collectors.toSet());
    long requested =
        pods.stream()
            .filter(p -> p.getSpec() != null && names.contains(p.getSpec().getNodeName()))
            .filter(p -> p.getStatus() == null
                || !("Succeeded".equals(p.getStatus().getPhase()) || "Failed".equals(p.getStatus().getPhase())))
            .flatMap(p -> p.getSpec().getContainers().stream())
            .mapToLong(ClusterObserver::gpuRequest)
            .sum();
    return new ClusterCapacity(memory, (int) Math.max(0, allocatable - requested));
  }

  private static long gpuRequest(Container c) {
    if (c.getResources() == null) {
      return 0;
    }
    Quantity q = c.getResources().getRequests() == null ? null : c.getResources().getRequests().get(ReplicaPods.GPU_RESOURCE);
    if (q == null && c.getResources().getLimits() != null) {
      q = c.getResources().getLimits().get(ReplicaPods.GPU_RESOURCE);
    }
    return q == null ? 0 : q.getNumericalAmount().longValue();
  }

  /** The label is a plain number of MiB ("81920"); a quantity with a unit ("80Gi") is read as one. */
  private static Long mebibytesToBytes(String value) {
    try {
      if (value.matches("\\d+")) {
        return Long.parseLong(value) * 1024L * 1024L;
      }
      BigDecimal bytes = Quantity.getAmountInBytes(new Quantity(value));
      return bytes.longValue();
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static Map<String, String> labels(Node n) {
    return n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
  }
}
