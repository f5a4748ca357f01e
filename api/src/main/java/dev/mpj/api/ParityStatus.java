package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The last precision parity check. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ParityStatus {
  @JsonPropertyDescription("Step of the check.")
  public Long step;

  @JsonPropertyDescription("Validation loss of the FP16 working weights.")
  public Double fp16Loss;

  @JsonPropertyDescription("Validation loss of the FP32 master weights.")
  public Double fp32Loss;

  @JsonPropertyDescription("|fp16Loss - fp32Loss| / fp32Loss.")
  public Double relativeGap;

  @JsonPropertyDescription("Whether the gap is within spec.parity.maxRelativeGap.")
  public Boolean withinBound;
}
