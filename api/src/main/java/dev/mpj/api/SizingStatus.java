package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The sizing plan of a job as recorded in its status. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SizingStatus {
  @JsonPropertyDescription("Parameters of the model.")
  public Long parameters;

  @JsonPropertyDescription("Memory of one GPU that the plan assumed, in bytes.")
  public Long gpuMemoryBytes;

  @JsonPropertyDescription("Where that figure came from: spec, node-label or operator-default.")
  public String gpuMemorySource;

  @JsonPropertyDescription("Whether the job fits at micro-batch 1.")
  public Boolean fits;

  @JsonPropertyDescription("The plan for the job's own precision; this is what runs.")
  public PrecisionPlan plan;

  @JsonPropertyDescription("The same job planned in FP32, for comparison.")
  public PrecisionPlan fp32;

  @JsonPropertyDescription("GPUs the job's precision saves against FP32 (negative: it needs more).")
  public Integer gpusSaved;

  @JsonPropertyDescription(
      "Bytes per replica the job's precision saves against FP32 at the job's micro-batch (negative: it needs more).")
  public Long memorySavedPerReplicaBytes;

  @JsonPropertyDescription(
      "Fits, DoesNotFit (not even micro-batch 1 fits one GPU), WaitingForGpus (fewer free than replicas.min "
          + "needs), BatchNotSplittable (no replica count in range divides the global batch), or NotSized "
          + "(the data's shape is only known from its file).")
  public String reason;

  @JsonPropertyDescription(
      "The decision in words, with the numbers: why this many replicas, or why the job cannot run.")
  public String message;

  /** One precision's plan. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class PrecisionPlan {
    @JsonPropertyDescription("Precision planned.")
    public String precision;

    @JsonPropertyDescription(
        "Whether one replica fits in one GPU at micro-batch 1 in this precision.")
    public Boolean fits;

    @JsonPropertyDescription(
        "Predicted peak GPU memory of one replica at the chosen micro-batch, in bytes.")
    public Long bytesPerReplica;

    @JsonPropertyDescription("Largest micro-batch that fits in one GPU.")
    public Integer maxMicroBatch;

    @JsonPropertyDescription("Micro-batch each replica runs.")
    public Integer microBatch;

    @JsonPropertyDescription("Micro-batches accumulated per optimizer step.")
    public Integer gradientAccumulation;

    @JsonPropertyDescription("Replicas.")
    public Integer replicas;

    @JsonPropertyDescription("GPUs: replicas x GPUs per replica.")
    public Integer gpus;
  }
}
