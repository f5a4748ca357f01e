package dev.mpj.operator.sizing;

/**
 * What the cluster offers a job, as the operator observed it.
 *
 * @param nodeGpuMemoryBytes memory of one GPU on the smallest matching node (from the
 *     {@code nvidia.com/gpu.memory} label), or null when no matching node carries the label
 * @param freeGpus GPUs allocatable on matching nodes less those requested by running pods, or null
 *     when unknown (offline planning)
 */
public record ClusterCapacity(Long nodeGpuMemoryBytes, Integer freeGpus) {
  /** Nothing known about the cluster: offline planning with {@code mpj plan}. */
  public static ClusterCapacity unknown() {
    return new ClusterCapacity(null, null);
  }
}
