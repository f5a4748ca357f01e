package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The FP32 reference gang of reference parity with schedule beside: it trains beside the job's own
 * gang, with attempts and restarts of its own (the job's status.attempt and status.restarts are the
 * job's gang's only).
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ReferenceGangStatus {
  @JsonPropertyDescription(
      "Pending, Running, Restarting, Suspended, Succeeded or Failed: the reference gang's own"
          + " phase.")
  public JobPhase phase;

  @JsonPropertyDescription("The reference gang's current attempt (1 for its first).")
  public int attempt;

  @JsonPropertyDescription(
      "Restarts of the reference gang after a failure, counted against runPolicy.backoffLimit"
          + " apart from the job's own.")
  public int restarts;

  @JsonPropertyDescription("Restarts after Kubernetes disrupted a reference pod (not counted).")
  public int disruptions;

  @JsonPropertyDescription("Replicas of the reference gang's current attempt (sized for FP32).")
  public Integer replicas;

  @JsonPropertyDescription("Reference replicas whose pods are running.")
  public Integer readyReplicas;

  @JsonPropertyDescription("When the reference gang started (RFC 3339).")
  public String startTime;

  @JsonPropertyDescription("When the reference gang ended (RFC 3339).")
  public String completionTime;

  @JsonPropertyDescription("What the reference gang is doing, in words.")
  public String message;
}
