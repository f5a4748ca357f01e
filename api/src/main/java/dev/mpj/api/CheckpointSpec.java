package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;

/** FP32 master-weight checkpoints. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class CheckpointSpec {
  @Min(1)
  @JsonPropertyDescription("Write a checkpoint every this many optimizer steps (default 100).")
  public int intervalSteps = 100;

  @Min(1)
  @JsonPropertyDescription(
      "Also write one when this many seconds have passed since the last. Unset: steps only.")
  public Integer intervalSeconds;

  @Min(1)
  @JsonPropertyDescription("Number of newest checkpoints to keep (default 3).")
  public int keep = 3;

  @JsonPropertyDescription(
      "The volume checkpoints are written to. Unset: an emptyDir, lost with the pod.")
  public Volume volume;

  /** An existing claim, or the size of one the operator creates. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  @ValidationRule(
      value = "has(self.size) != has(self.claimName)",
      message = "set exactly one of checkpoint.volume.size and checkpoint.volume.claimName")
  public static class Volume {
    @JsonPropertyDescription(
        "Size of a PersistentVolumeClaim the operator creates for the job, e.g. 10Gi.")
    public Quantity size;

    @JsonPropertyDescription(
        "Storage class of the claim the operator creates. Unset: the cluster default.")
    public String storageClassName;

    @JsonPropertyDescription("Name of an existing PersistentVolumeClaim in the job's namespace.")
    public String claimName;
  }
}
