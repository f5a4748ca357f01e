package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/**
 * When the trainer calls a run unhealthy: the loss scale overflowing at minScale, too many skipped
 * steps over a window, a non-finite FP32 loss, FP16 gradients flushed to zero.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingHealthSpec {

  @Min(1)
  @JsonPropertyDescription(
      "Optimizer steps the health is judged over: the skipped-step ratio and the gradient underflow"
          + " need this many steps since the start or the resume; an overflow at minScale or a"
          + " non-finite loss counts while it is within the window (default 100).")
  public int windowSteps = 100;

  @Min(0)
  @Max(1)
  @JsonPropertyDescription(
      "Largest fraction of the window's steps that may be skipped for inf/NaN gradients (default"
          + " 0.1: dynamic scaling skips a handful while it calibrates and about one per"
          + " growthInterval after).")
  public double maxSkippedFraction = 0.1;
}
