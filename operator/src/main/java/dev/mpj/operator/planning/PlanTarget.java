package dev.mpj.operator.planning;

import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.operator.sizing.ClusterCapacity;
import dev.mpj.operator.sizing.GpuMemory;
import dev.mpj.operator.sizing.SizingSettings;

/**
 * The GPU a fleet is planned on: a catalog entry, a bare memory size, or each job's own GPU memory
 * as written (spec.resources.gpuMemory, else the operator's default).
 *
 * @param name what the plan calls it: the catalog name, the size (e.g. 80Gi), or "as written"
 * @param memoryBytes memory of one GPU; null for each job's own
 * @param gpu the catalog entry, for throughput; null without one (no time estimates)
 */
public record PlanTarget(String name, Long memoryBytes, GpuType gpu) {

  public static final String AS_WRITTEN = "as written";
  public static final String CATALOG_SOURCE = "catalog";

  public static PlanTarget of(GpuType gpu) {
    return new PlanTarget(gpu.name(), gpu.memoryBytes(), gpu);
  }

  public static PlanTarget ofMemory(String name, long bytes) {
    return new PlanTarget(name, bytes, null);
  }

  /** Each job on the GPU memory its spec states, or the operator's default. */
  public static PlanTarget asWritten() {
    return new PlanTarget(AS_WRITTEN, null, null);
  }

  /** The memory one GPU of this target has for {@code spec}, and where the figure comes from. */
  public GpuMemory memoryFor(MixedPrecisionJobSpec spec, SizingSettings settings) {
    if (memoryBytes == null) {
      return GpuMemory.resolve(spec, ClusterCapacity.unknown(), settings);
    }
    return new GpuMemory(memoryBytes, gpu != null ? CATALOG_SOURCE : GpuMemory.FLAG);
  }
}
