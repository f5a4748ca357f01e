package dev.mpj.operator.sizing;

import dev.mpj.api.MixedPrecisionJobSpec;
import io.fabric8.kubernetes.api.model.Quantity;

/**
 * Memory of one GPU that a plan assumes, and where that figure came from.
 *
 * @param source {@value #SPEC}, {@value #NODE_LABEL}, {@value #OPERATOR_DEFAULT}, or {@value #FLAG}
 *     (mpj plan --gpu-memory)
 */
public record GpuMemory(long bytes, String source) {
  public static final String SPEC = "spec";
  public static final String NODE_LABEL = "node-label";
  public static final String OPERATOR_DEFAULT = "operator-default";
  public static final String FLAG = "flag";

  /**
   * In order: spec.resources.gpuMemory, the smallest matching node's label, the operator's default.
   */
  public static GpuMemory resolve(
      MixedPrecisionJobSpec spec, ClusterCapacity capacity, SizingSettings settings) {
    Quantity fromSpec = spec.resources != null ? spec.resources.gpuMemory : null;
    if (fromSpec != null) {
      return new GpuMemory(Quantity.getAmountInBytes(fromSpec).longValue(), SPEC);
    }
    if (capacity.nodeGpuMemoryBytes() != null) {
      return new GpuMemory(capacity.nodeGpuMemoryBytes(), NODE_LABEL);
    }
    return new GpuMemory(settings.defaultGpuMemoryBytes(), OPERATOR_DEFAULT);
  }
}
