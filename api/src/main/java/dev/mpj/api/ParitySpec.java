package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/**
 * Governance: mixed precision must stay within stated gaps of FP32. Two checks: {@link
 * #workingWeights} (one run's FP16 working weights against its own FP32 master weights: rounding at
 * evaluation) and {@link #reference} (the mixed run against an FP32 reference run of the same job:
 * what training in FP16 did to the model).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ParitySpec {

  /** What happens when a gap is exceeded. */
  public enum Action {
    @JsonProperty("warn")
    WARN,
    @JsonProperty("fail")
    FAIL
  }

  @JsonPropertyDescription(
      "The working-weights check: every intervalSteps steps, the validation loss of the FP16"
          + " working weights against that of the run's own FP32 master weights (rounding at"
          + " evaluation, not what training in FP16 did: see reference).")
  public WorkingWeights workingWeights;

  @JsonPropertyDescription(
      "Deprecated alias of workingWeights.maxRelativeGap (earlier v1alpha1); still honoured, not"
          + " together with workingWeights.")
  public Double maxRelativeGap;

  @JsonPropertyDescription(
      "Deprecated alias of workingWeights.intervalSteps (earlier v1alpha1); still honoured, not"
          + " together with workingWeights.")
  public Integer intervalSteps;

  @JsonPropertyDescription(
      "Deprecated alias of workingWeights.action (earlier v1alpha1); still honoured, not together"
          + " with workingWeights.")
  public Action action;

  @JsonPropertyDescription(
      "Reference parity: the operator first runs an FP32 reference of the same job (same seed, data"
          + " order and global batch) for steps steps as its own gang, then compares the mixed run"
          + " with it at that step.")
  public Reference reference;

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

  /** The working-weights check. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class WorkingWeights {
    @Min(0)
    @JsonPropertyDescription(
        "Largest allowed |loss(FP16 working weights) - loss(FP32 master weights)| / loss(FP32), on"
            + " the validation split (default 0.02).")
    public double maxRelativeGap = 0.02;

    @Min(1)
    @JsonPropertyDescription("Check every this many optimizer steps (default 100).")
    public int intervalSteps = 100;

    @JsonPropertyDescription(
        "warn: record it in status (PrecisionParity=False); fail: stop the job as Failed.")
    public Action action = Action.WARN;
  }

  /** Where the FP32 reference runs, relative to the mixed run. */
  public enum Schedule {
    @JsonProperty("before")
    BEFORE,
    @JsonProperty("beside")
    BESIDE
  }

  /** Reference parity: an FP32 run of the same job, compared at the same step. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Reference {
    @Required
    @Min(1)
    @JsonPropertyDescription(
        "Optimizer steps of the FP32 reference; both runs are compared at this step (at most"
            + " training.steps).")
    public Integer steps;

    @JsonPropertyDescription(
        "before (default): the reference runs first, then the mixed run, on the job's GPUs."
            + " beside: the reference trains as a second gang (its own pods, sized for FP32) at"
            + " the same time as the mixed run; both must fit at once; not with a Kueue queue nor"
            + " with runPolicy.schedulingPolicy.")
    public Schedule schedule = Schedule.BEFORE;

    @Min(0)
    @JsonPropertyDescription(
        "Percentage points the mixed run's validation accuracy may be below the reference's"
            + " (default 1.0; classification only).")
    public double maxAccuracyDrop = 1.0;

    @Min(0)
    @JsonPropertyDescription(
        "Largest |mixed - reference| / reference of the validation loss and of the mean training"
            + " loss over the window (default 0.05).")
    public double maxRelativeLossGap = 0.05;

    @Min(1)
    @JsonPropertyDescription(
        "The training losses are compared as means over the last this many steps up to steps"
            + " (default 50; fewer when steps is smaller).")
    public int windowSteps = 50;

    @JsonPropertyDescription(
        "warn (default): record the verdict (PrecisionParity condition, Event); fail: end the job"
            + " with reason ParityExceeded, keeping its checkpoints.")
    public Action action = Action.WARN;

    /** The window actually used: windowSteps, at most steps. */
    @JsonIgnore
    public int window() {
      return steps == null ? windowSteps : Math.min(windowSteps, steps);
    }
  }

  /**
   * The path of a working-weights field as the user wrote it: spec.parity.workingWeights.NAME, or
   * spec.parity.NAME in the earlier form.
   */
  @JsonIgnore
  public String workingWeightsField(String name) {
    return (workingWeights != null ? "spec.parity.workingWeights." : "spec.parity.") + name;
  }

  /** Whether a deprecated alias of a workingWeights field is set. */
  @JsonIgnore
  public boolean usesDeprecatedFields() {
    return maxRelativeGap != null || intervalSteps != null || action != null;
  }

  /**
   * The working-weights check in effect, or null when off: workingWeights; or the deprecated
   * top-level fields over the defaults; or, for a spec.parity written in the earlier v1alpha1 form
   * (neither workingWeights nor reference), the defaults, as that form always checked.
   */
  @JsonIgnore
  public WorkingWeights workingWeightsCheck() {
    if (workingWeights != null) {
      return workingWeights;
    }
    if (!usesDeprecatedFields() && reference != null) {
      return null;
    }
    WorkingWeights w = new WorkingWeights();
    if (maxRelativeGap != null) {
      w.maxRelativeGap = maxRelativeGap;
    }
    if (intervalSteps != null) {
      w.intervalSteps = intervalSteps;
    }
    if (action != null) {
      w.action = action;
    }
    return w;
  }
}
