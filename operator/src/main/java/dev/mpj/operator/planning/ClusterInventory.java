package dev.mpj.operator.planning;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The GPU pools of a cluster, from its nodes' NVIDIA GPU feature discovery labels and the GPU
 * requests of its pods. A pure function of the listed nodes and pods.
 */
public final class ClusterInventory {

  public static final String PRODUCT_LABEL = "nvidia.com/gpu.product";
  public static final String MEMORY_LABEL = "nvidia.com/gpu.memory";
  public static final String COUNT_LABEL = "nvidia.com/gpu.count";
  public static final String MIG_STRATEGY_LABEL = "nvidia.com/mig.strategy";

  private static final long MIB = 1L << 20;

  private ClusterInventory() {}

  /**
   * Pools of whole GPUs (nvidia.com/gpu, including the MIG slices the single strategy exposes under
   * it) and of the mixed strategy's MIG slices, largest memory last. Cordoned nodes and nodes
   * without a product label are left out.
   */
  public static List<GpuPool> observe(List<Node> nodes, List<Pod> pods, GpuCatalog catalog) {
    Map<String, Map<String, Long>> requested = requestsByNode(pods);
    Map<String, Builder> pools = new LinkedHashMap<>();
    for (Node node : nodes) {
      Map<String, String> labels =
          node.getMetadata().getLabels() != null ? node.getMetadata().getLabels() : Map.of();
      String product = labels.get(PRODUCT_LABEL);
      if (product == null || cordoned(node)) {
        continue;
      }
      String name = node.getMetadata().getName();
      Map<String, Long> used = requested.getOrDefault(name, Map.of());
      Long memory = mib(labels.get(MEMORY_LABEL));
      if (memory != null) {
        String resource = GpuPool.GPU_RESOURCE;
        long allocatable = allocatable(node, resource);
        int count = count(labels.get(COUNT_LABEL), allocatable);
        String profile =
            product.contains("-MIG-") ? product.substring(product.indexOf("-MIG-") + 5) : null;
        pools
            .computeIfAbsent(
                product + "|" + memory, k -> new Builder(product, memory, resource, profile))
            .add(name, count, allocatable - used.getOrDefault(resource, 0L));
      }
      if ("mixed".equals(labels.get(MIG_STRATEGY_LABEL))) {
        for (Map.Entry<String, String> l : labels.entrySet()) {
          String key = l.getKey();
          if (key.startsWith("nvidia.com/mig-") && key.endsWith(".count")) {
            String profile =
                key.substring("nvidia.com/mig-".length(), key.length() - ".count".length());
            Long sliceMemory = mib(labels.get("nvidia.com/mig-" + profile + ".memory"));
            if (sliceMemory == null) {
              continue;
            }
            String resource = "nvidia.com/mig-" + profile;
            long allocatable = allocatable(node, resource);
            int count = count(l.getValue(), allocatable);
            pools
                .computeIfAbsent(
                    product + "-MIG-" + profile + "|" + sliceMemory,
                    k -> new Builder(product + "-MIG-" + profile, sliceMemory, resource, profile))
                .add(name, count, allocatable - used.getOrDefault(resource, 0L));
          }
        }
      }
    }
    List<GpuPool> result = new ArrayList<>();
    for (Builder b : pools.values()) {
      GpuType gpu =
          b.migProfile == null ? catalog.forProduct(b.product, b.memory).orElse(null) : null;
      result.add(
          new GpuPool(b.product, b.memory, b.resource, b.migProfile, b.nodes, b.gpus, b.free, gpu));
    }
    result.sort(Comparator.comparingLong(GpuPool::memoryBytes).thenComparing(GpuPool::product));
    return result;
  }

  private static final class Builder {
    final String product;
    final long memory;
    final String resource;
    final String migProfile;
    final List<String> nodes = new ArrayList<>();
    final List<Integer> free = new ArrayList<>();
    int gpus;

    Builder(String product, long memory, String resource, String migProfile) {
      this.product = product;
      this.memory = memory;
      this.resource = resource;
      this.migProfile = migProfile;
    }

    void add(String node, int count, long freeOnNode) {
      nodes.add(node);
      gpus += count;
      free.add((int) Math.max(0, Math.min(freeOnNode, Integer.MAX_VALUE)));
    }
  }

  private static Long mib(String value) {
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

  private static int count(String label, long allocatable) {
    if (label != null) {
      try {
        return Integer.parseInt(label.trim());
      } catch (NumberFormatException e) {
        // the allocatable count below
      }
    }
    return (int) allocatable;
  }

  private static boolean cordoned(Node node) {
    return node.getSpec() != null && Boolean.TRUE.equals(node.getSpec().getUnschedulable());
  }

  private static long allocatable(Node node, String resource) {
    Map<String, Quantity> allocatable =
        node.getStatus() != null ? node.getStatus().getAllocatable() : null;
    Quantity q = allocatable != null ? allocatable.get(resource) : null;
    return q != null ? Quantity.getAmountInBytes(q).longValue() : 0;
  }

  /** GPU requests of unfinished pods per node and resource (nvidia.com/gpu, nvidia.com/mig-*). */
  private static Map<String, Map<String, Long>> requestsByNode(List<Pod> pods) {
    Map<String, Map<String, Long>> byNode = new HashMap<>();
    for (Pod pod : pods) {
      String node = pod.getSpec() != null ? pod.getSpec().getNodeName() : null;
      String phase = pod.getStatus() != null ? pod.getStatus().getPhase() : null;
      if (node == null || "Succeeded".equals(phase) || "Failed".equals(phase)) {
        continue;
      }
      Map<String, Long> used = byNode.computeIfAbsent(node, k -> new HashMap<>());
      List<Container> containers =
          pod.getSpec().getContainers() != null ? pod.getSpec().getContainers() : List.of();
      for (Container c : containers) {
        if (c.getResources() == null) {
          continue;
        }
        Map<String, Quantity> amounts = new HashMap<>();
        if (c.getResources().getLimits() != null) {
          amounts.putAll(c.getResources().getLimits());
        }
        if (c.getResources().getRequests() != null) {
          amounts.putAll(c.getResources().getRequests());
        }
        amounts.forEach(
            (resource, q) -> {
              if (resource.equals(GpuPool.GPU_RESOURCE) || resource.startsWith("nvidia.com/mig-")) {
                used.merge(resource, Quantity.getAmountInBytes(q).longValue(), Long::sum);
              }
            });
      }
    }
    return byNode;
  }
}
