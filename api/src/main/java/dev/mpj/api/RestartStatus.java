package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** One gang restart: which attempt ended, when, and why. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RestartStatus {
  @JsonPropertyDescription("The attempt that ended; the next one started after it.")
  public int attempt;

  @JsonPropertyDescription("When the operator decided the restart (RFC 3339).")
  public String time;

  @JsonPropertyDescription(
      "ReplicaFailed (counts against runPolicy.backoffLimit), Disrupted (counted in"
          + " status.disruptions, not against the backoffLimit), Resized, or Suspended (the job"
          + " resumed after runPolicy.suspend or a Kueue eviction; not counted either).")
  public String reason;

  @JsonPropertyDescription(
      "For reason Disrupted: the reason of the pod's DisruptionTarget condition, as Kubernetes"
          + " set it (PreemptionByScheduler, EvictionByEvictionAPI, DeletionByTaintManager,"
          + " TerminationByKubelet).")
  public String disruption;

  @JsonPropertyDescription(
      "For reason Suspended: the reason of the job's Suspended condition while it was suspended"
          + " (Suspended for runPolicy.suspend, Evicted for a Kueue eviction or preemption).")
  public String suspension;

  @JsonPropertyDescription(
      "Why, in one line: the replica that decided it and what its trainer said.")
  public String message;
}
