package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Training health as rank 0 last reported it (spec.health says the thresholds). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingHealthStatus {
  @JsonPropertyDescription("Step of the report.")
  public Long step;

  @JsonPropertyDescription("False when any reason holds.")
  public Boolean healthy;

  @JsonPropertyDescription(
      "Why not healthy: LossScaleAtMinimum, SkippedStepsHigh, NonFiniteLoss, GradientsUnderflow.")
  public List<String> reasons;

  @JsonPropertyDescription("What the reasons mean for this run, in words.")
  public String message;

  @JsonPropertyDescription("Steps the figures below cover (at most spec.health.windowSteps).")
  public Integer stepsInWindow;

  @JsonPropertyDescription("Steps of the window skipped for inf/NaN gradients.")
  public Integer skippedStepsInWindow;
}
