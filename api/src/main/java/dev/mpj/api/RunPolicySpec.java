package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;

/** Restart, deadline, clean-up and suspension, with Kubernetes Job semantics. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RunPolicySpec {
  @Min(0)
  @JsonPropertyDescription("Gang restarts allowed before the job is Failed (default 3).")
  public int backoffLimit = 3;

  @Min(1)
  @JsonPropertyDescription(
      "Seconds the job may run, from its start, before it is Failed with DeadlineExceeded.")
  public Long activeDeadlineSeconds;

  @Min(0)
  @JsonPropertyDescription(
      "Seconds after the job finished before it and all it owns are deleted. Unset: kept.")
  public Integer ttlSecondsAfterFinished;

  @JsonPropertyDescription(
      "true stops the pods gracefully (they checkpoint); false again resumes from the checkpoint.")
  public boolean suspend = false;

  @JsonPropertyDescription(
      "Gang scheduling through a PodGroup (Volcano or scheduler-plugins coscheduling). Unset: the"
          + " pods go to the default scheduler one by one.")
  public SchedulingPolicySpec schedulingPolicy;
}
