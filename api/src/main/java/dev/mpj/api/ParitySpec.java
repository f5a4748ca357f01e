package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;

/** Governance: mixed precision must stay within a stated gap of FP32. */
public class ParitySpec {

  /** What happens when the gap is exceeded. */
  public enum Action {
    @JsonProperty("warn")
    WARN,
    @JsonProperty("fail")
    FAIL
  }

  @Min(0)
  @JsonPropertyDescription(
      "Largest allowed |loss(FP16 working weights) - loss(FP32 master weights)| / loss(FP32), on the "
          + "validation split (default 0.02).")
  public double maxRelativeGap = 0.02;

  @Min(1)
  @JsonPropertyDescription("Check every this many optimizer steps (default 100).")
  public int intervalSteps = 100;

  @JsonPropertyDescription(
      "warn: record it in status (PrecisionParity=False); fail: stop the job as Failed.")
  public Action action = Action.WARN;

  /** What the operator does when the trainer reports the run unhealthy (TrainingHealthy=False). */
  public enum Divergence {
    @JsonProperty("fail")
    FAIL,
    @JsonProperty("fallback-fp32")
    FALLBACK_FP32
  }

  @JsonPropertyDescription(
      "When the trainer reports the run unhealthy (spec.health): fail ends the job with reason"
          + " TrainingUnhealthy; fallback-fp32 restarts it in FP32 from the newest checkpoint (not"
          + " counted as a restart). Unset: the TrainingHealthy condition only.")
  public Divergence onDivergence;
}
