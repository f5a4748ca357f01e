package dev.mpj.operator.sizing;

import dev.mpj.api.TrainerContract;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What the cluster offers a job, as the operator observed it.
 *
 * @param nodeGpuMemoryBytes memory of one GPU on the smallest matching node (from the {@code
 *     nvidia.com/gpu.memory} label), or null when no matching node carries the label
 * @param freeGpus GPUs allocatable on matching nodes less those requested by running pods, or null
 *     when unknown (offline planning)
 */
public record ClusterCapacity(Long nodeGpuMemoryBytes, Integer freeGpus) {

  private static final long MIB = 1L << 20;

  /**
   * This capacity with {@code gpus} more taken (another gang of the same job, whose pods the
   * observation left out as the job's own); unknown stays unknown.
   */
  public ClusterCapacity less(int gpus) {
    return freeGpus == null || gpus <= 0
        ? this
        : new ClusterCapacity(nodeGpuMemoryBytes, Math.max(0, freeGpus - gpus));
  }

  /** Nothing known about the cluster: offline planning with {@code mpj plan}. */
  public static ClusterCapacity unknown() {
    return new ClusterCapacity(null, null);
  }

  /** {@link #observe(List, List, Map, int)} for replicas of one GPU. */
  public static ClusterCapacity observe(
      List<Node> nodes, List<Pod> pods, Map<String, String> nodeSelector) {
    return observe(nodes, pods, nodeSelector, 1);
  }

  /**
   * The capacity the job's nodes offer: nodes whose labels match {@code nodeSelector} (all nodes
   * when it is empty) and that are not cordoned. GPU memory is the smallest {@value
   * TrainerContract#GPU_MEMORY_LABEL} among them. Free GPUs are each node's allocatable {@value
   * TrainerContract#GPU_RESOURCE} less the requests of the pods bound to it that have not finished
   * (phase Succeeded or Failed); a replica's GPUs must sit on one node, so each node contributes
   * only whole replicas of {@code gpusPerReplica}.
   */
  public static ClusterCapacity observe(
      List<Node> nodes, List<Pod> pods, Map<String, String> nodeSelector, int gpusPerReplica) {
    Map<String, Long> requested = new HashMap<>();
    for (Pod pod : pods) {
      if (holdsNode(pod)) {
        requested.merge(pod.getSpec().getNodeName(), gpuRequest(pod), Long::sum);
      }
    }
    return observe(nodes, requested, nodeSelector, gpusPerReplica);
  }

  /**
   * {@link #observe(List, List, Map, int)} with the pods already summed: the GPUs requested on each
   * node (by node name) by the pods that hold it.
   */
  public static ClusterCapacity observe(
      List<Node> nodes,
      Map<String, Long> requested,
      Map<String, String> nodeSelector,
      int gpusPerReplica) {
    Long smallestMemory = null;
    long free = 0;
    for (Node node : nodes) {
      if (!matches(node, nodeSelector) || cordoned(node)) {
        continue;
      }
      Long memory = labelledGpuMemory(node);
      if (memory != null && (smallestMemory == null || memory < smallestMemory)) {
        smallestMemory = memory;
      }
      long nodeFree =
          Math.max(
              0, allocatableGpus(node) - requested.getOrDefault(node.getMetadata().getName(), 0L));
      free += gpusPerReplica > 0 ? nodeFree / gpusPerReplica * gpusPerReplica : nodeFree;
    }
    return new ClusterCapacity(smallestMemory, (int) Math.min(free, Integer.MAX_VALUE));
  }

  private static boolean matches(Node node, Map<String, String> nodeSelector) {
    if (nodeSelector == null || nodeSelector.isEmpty()) {
      return true;
    }
    Map<String, String> labels = node.getMetadata().getLabels();
    return labels != null
        && nodeSelector.entrySet().stream()
            .allMatch(e -> Objects.equals(labels.get(e.getKey()), e.getValue()));
  }

  private static boolean cordoned(Node node) {
    return node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable());
  }

  private static Long labelledGpuMemory(Node node) {
    Map<String, String> labels = node.getMetadata().getLabels();
    String value = labels != null ? labels.get(TrainerContract.GPU_MEMORY_LABEL) : null;
    if (value == null) {
      return null;
    }
    try {
      long mib = Long.parseLong(value.trim());
      return mib > 0 ? mib * MIB : null;
    } catch (NumberFormatException e) {
      return null;
    }
  }

  private static long allocatableGpus(Node node) {
    Map<String, Quantity> allocatable =
        node.getStatus() != null ? node.getStatus().getAllocatable() : null;
    Quantity gpus = allocatable != null ? allocatable.get(TrainerContract.GPU_RESOURCE) : null;
    return gpus != null ? Quantity.getAmountInBytes(gpus).longValue() : 0;
  }

  /**
   * Whether {@code pod} holds what it requests on a node: it is bound to one and has not finished
   * (phase Succeeded or Failed).
   */
  public static boolean holdsNode(Pod pod) {
    return pod.getSpec() != null && pod.getSpec().getNodeName() != null && !finished(pod);
  }

  private static boolean finished(Pod pod) {
    String phase = pod.getStatus() != null ? pod.getStatus().getPhase() : null;
    return "Succeeded".equals(phase) || "Failed".equals(phase);
  }

  /**
   * The GPUs {@code pod} requests, as the scheduler counts them: the larger of the containers' sum
   * and the largest init container.
   */
  public static long gpuRequest(Pod pod) {
    long containers = 0;
    for (Container c :
        pod.getSpec().getContainers() != null
            ? pod.getSpec().getContainers()
            : List.<Container>of()) {
      containers += gpus(c);
    }
    long init = 0;
    for (Container c :
        pod.getSpec().getInitContainers() != null
            ? pod.getSpec().getInitContainers()
            : List.<Container>of()) {
      init = Math.max(init, gpus(c));
    }
    return Math.max(containers, init);
  }

  /** An extended resource's request equals its limit; a container may state only the limit. */
  private static long gpus(Container container) {
    if (container.getResources() == null) {
      return 0;
    }
    Quantity q = null;
    if (container.getResources().getRequests() != null) {
      q = container.getResources().getRequests().get(TrainerContract.GPU_RESOURCE);
    }
    if (q == null && container.getResources().getLimits() != null) {
      q = container.getResources().getLimits().get(TrainerContract.GPU_RESOURCE);
    }
    return q != null ? Quantity.getAmountInBytes(q).longValue() : 0;
  }
}
