package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Training progress as rank 0 reports it. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ProgressStatus {
  @JsonPropertyDescription("Optimizer steps done, skipped ones included.")
  public Long step;

  @JsonPropertyDescription("Optimizer steps in the whole job.")
  public Long totalSteps;

  @JsonPropertyDescription("Training loss of the last step (FP32, before scaling).")
  public Double loss;

  @JsonPropertyDescription("Current loss scale (1 for fp32).")
  public Double lossScale;

  @JsonPropertyDescription("Steps skipped because of an overflow.")
  public Long skippedSteps;

  @JsonPropertyDescription("Training throughput across all replicas.")
  public Double samplesPerSecond;

  @JsonPropertyDescription("When this was reported (RFC 3339).")
  public String updateTime;
}
