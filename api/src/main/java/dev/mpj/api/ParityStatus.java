package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Precision parity: the last working-weights check (the top-level fields) and reference parity
 * ({@link #reference}).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ParityStatus {
  @JsonPropertyDescription("Step of the last working-weights check.")
  public Long step;

  @JsonPropertyDescription("Validation loss of the FP16 working weights.")
  public Double fp16Loss;

  @JsonPropertyDescription("Validation loss of the FP32 master weights.")
  public Double fp32Loss;

  @JsonPropertyDescription("|fp16Loss - fp32Loss| / fp32Loss.")
  public Double relativeGap;

  @JsonPropertyDescription("Whether the gap is within spec.parity.workingWeights.maxRelativeGap.")
  public Boolean withinBound;

  @JsonPropertyDescription(
      "Reference parity (spec.parity.reference): both runs' figures, the gaps and the verdict.")
  public ReferenceParityStatus reference;
}
