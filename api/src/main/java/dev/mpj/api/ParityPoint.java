package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One run's figures at the step reference parity compares (spec.parity.reference.steps). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ParityPoint {
  /** {@link #run} of the FP32 reference run. */
  public static final String REFERENCE = "reference";

  /** {@link #run} of the job's own (mixed-precision) run. */
  public static final String JOB = "job";

  @JsonPropertyDescription("reference (the FP32 reference run) or job (the job's own run).")
  public String run;

  @JsonPropertyDescription("The precision the run trained in.")
  public String precision;

  @JsonPropertyDescription("The step of these figures.")
  public Long step;

  @JsonPropertyDescription("Validation loss at that step.")
  public Double validationLoss;

  @JsonPropertyDescription("Validation accuracy at that step (0 to 1; classification only).")
  public Double validationAccuracy;

  @JsonPropertyDescription("Mean training loss over steps windowFrom to windowTo.")
  public Double trainingLoss;

  @JsonPropertyDescription("First step of the training-loss window.")
  public Long windowFrom;

  @JsonPropertyDescription("Last step of the training-loss window.")
  public Long windowTo;
}
