package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The config the operator renders into each job's ConfigMap and the trainer reads with {@code
 * --config}: the job's spec plus the operator's sizing decision for this attempt.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainerConfig {
  public static final String API_VERSION = Crd.API_VERSION;
  public static final String KIND = "TrainerConfig";

  public String apiVersion = API_VERSION;
  public String kind = KIND;

  @JsonPropertyDescription("Name of the MixedPrecisionJob.")
  public String jobName;

  @JsonPropertyDescription("Namespace of the MixedPrecisionJob.")
  public String namespace;

  @JsonPropertyDescription("The job's spec, as applied.")
  public MixedPrecisionJobSpec spec;

  @JsonPropertyDescription("Replicas of this attempt (the world size).")
  public int replicas = 1;

  @JsonPropertyDescription("Samples per micro-batch on each replica.")
  public int microBatch;

  @JsonPropertyDescription("Micro-batches accumulated per optimizer step on each replica.")
  public int gradientAccumulation = 1;

  @JsonPropertyDescription(
      "True for the FP32 fallback of an fp16-mixed job (spec.precision is then fp32): the attempt"
          + " resumes from the job's fp16-mixed checkpoints, whose FP32 master weights and optimizer"
          + " state are the FP32 model's state.")
  public Boolean resumeMixedAsFp32;

  @JsonPropertyDescription(
      "Reference parity (spec.parity.reference) for this attempt: rank 0 records its figures at"
          + " the step, and compares them with the reference's when given.")
  public ReferenceParity referenceParity;

  /** What the trainer does for reference parity in this attempt. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class ReferenceParity {
    @JsonPropertyDescription(
        "True for the FP32 reference run itself: it keeps its checkpoints apart (reference-fp32/"
            + " under the checkpoint folder) and only records its figures.")
    public Boolean referenceRun;

    @JsonPropertyDescription("The step both runs are compared at.")
    public long step;

    @JsonPropertyDescription("Steps of the training-loss window ending at that step.")
    public int windowSteps;

    @JsonPropertyDescription(
        "The reference's figures, for the job's own run: rank 0 compares at the step, and with"
            + " spec.parity.reference.action fail exits 5 when a threshold is exceeded.")
    public ParityPoint reference;
  }
}
