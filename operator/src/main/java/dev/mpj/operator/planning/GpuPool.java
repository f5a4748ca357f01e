package dev.mpj.operator.planning;

import java.util.List;

/**
 * GPUs of one kind in the cluster, from the labels of NVIDIA GPU feature discovery: the nodes whose
 * {@code nvidia.com/gpu.product} and {@code nvidia.com/gpu.memory} agree.
 *
 * @param product the product label (with a -MIG-profile suffix under the single MIG strategy)
 * @param memoryBytes memory of one GPU (or one MIG slice), from the memory label
 * @param resource the extended resource pods request: nvidia.com/gpu, or nvidia.com/mig-PROFILE for
 *     the slices of the mixed MIG strategy
 * @param migProfile the MIG profile (e.g. 1g.10gb), or null for whole GPUs
 * @param nodes the pool's schedulable nodes
 * @param freePerNode GPUs free on each node: allocatable less the requests of unfinished pods
 * @param gpu the catalog entry the product matches, or null
 */
public record GpuPool(
    String product,
    long memoryBytes,
    String resource,
    String migProfile,
    List<String> nodes,
    int gpus,
    List<Integer> freePerNode,
    GpuType gpu) {

  public static final String GPU_RESOURCE = "nvidia.com/gpu";

  public GpuPool {
    nodes = List.copyOf(nodes);
    freePerNode = List.copyOf(freePerNode);
  }

  public int freeGpus() {
    return freePerNode.stream().mapToInt(Integer::intValue).sum();
  }

  /** Whether MPJ's pods, which request nvidia.com/gpu, can use this pool. */
  public boolean usableByMpj() {
    return GPU_RESOURCE.equals(resource);
  }

  /** The name the plan shows: product and memory, and the catalog entry when one matches. */
  public String name() {
    return product
        + (gpu != null && !gpu.name().equalsIgnoreCase(product) ? " (" + gpu.name() + ")" : "");
  }
}
