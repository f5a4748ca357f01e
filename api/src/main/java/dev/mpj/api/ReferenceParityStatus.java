package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.List;

/** Reference parity: both runs' figures at the same step, the gaps and the verdict. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ReferenceParityStatus {
  /** {@link #phase} while the FP32 reference trains. */
  public static final String REFERENCE_RUNNING = "ReferenceRunning";

  /** {@link #phase} once the reference finished, until the mixed run reaches the step. */
  public static final String REFERENCE_FINISHED = "ReferenceFinished";

  /** {@link #phase} once both runs' figures are compared. */
  public static final String COMPARED = "Compared";

  /** {@link #phase} with schedule beside while both gangs train, until both reached the step. */
  public static final String WAITING = "Waiting";

  /** {@link #phase} with schedule beside when a gang ended without its figures at the step. */
  public static final String CANNOT_COMPARE = "CannotCompare";

  @JsonPropertyDescription(
      "schedule before: ReferenceRunning, ReferenceFinished, then Compared. schedule beside:"
          + " Waiting (both gangs train), then Compared, or CannotCompare when a gang ended"
          + " without reaching the step.")
  public String phase;

  @JsonPropertyDescription("The step both runs are compared at (spec.parity.reference.steps).")
  public Long step;

  @JsonPropertyDescription("The FP32 reference run's figures at that step.")
  public ParityPoint reference;

  @JsonPropertyDescription("The job's own run's figures at that step.")
  public ParityPoint candidate;

  @JsonPropertyDescription(
      "Reference accuracy minus the job's, in percentage points (classification only).")
  public Double accuracyDropPoints;

  @JsonPropertyDescription("|job - reference| / reference of the validation loss.")
  public Double validationLossGap;

  @JsonPropertyDescription(
      "|job - reference| / reference of the mean training loss over the window.")
  public Double trainingLossGap;

  @JsonPropertyDescription("Whether every gap is within its threshold.")
  public Boolean withinBounds;

  @JsonPropertyDescription("The thresholds exceeded, by name.")
  public List<String> exceeded;

  @JsonPropertyDescription("A human-readable summary of the verdict.")
  public String message;

  @JsonPropertyDescription(
      "schedule beside only: the FP32 reference gang that trains beside the job's own gang.")
  public ReferenceGangStatus gang;
}
