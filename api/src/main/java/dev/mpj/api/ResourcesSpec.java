package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.OptionalDouble;

/** What each replica's pod asks for. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ResourcesSpec {
  @Min(0)
  @JsonPropertyDescription("nvidia.com/gpu per replica (default 1; 0 runs on CPU).")
  public int gpusPerReplica = 1;

  @JsonPropertyDescription(
      "Memory of one GPU, e.g. 16Gi. Unset: the smallest nvidia.com/gpu.memory label of matching nodes, "
          + "else the operator's default.")
  public Quantity gpuMemory;

  @JsonPropertyDescription("CPU request and limit of each replica, e.g. \"4\".")
  public Quantity cpu;

  @JsonPropertyDescription(
      "Memory request and limit of each replica, e.g. 16Gi. Must be more than twice rank 0's"
          + " checkpoint snapshot (FP32 master weights and optimizer state: 12 bytes per parameter"
          + " with Adam), which the trainer keeps in direct memory, half the pod's; mpj plan prints"
          + " the figure.")
  public Quantity memory;

  /** The CPU request in cores (500m is 0.5), or empty when the spec sets none. */
  public OptionalDouble cpuCores() {
    return cpu == null
        ? OptionalDouble.empty()
        : OptionalDouble.of(Quantity.getAmountInBytes(cpu).doubleValue());
  }
}
