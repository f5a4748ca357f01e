package dev.mpj.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed and decided; written only by the operator. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class MixedPrecisionJobStatus {
  /** How many restarts {@link #restartHistory} keeps. */
  public static final int RESTART_HISTORY_LIMIT = 10;

  @JsonPropertyDescription("Pending, Running, Restarting, Suspended, Succeeded or Failed.")
  public JobPhase phase;

  @JsonPropertyDescription(
      "Standard conditions: Ready, Reconciling, Stalled (kstatus), and Running, Restarting, Succeeded, "
          + "Failed, Suspended, PrecisionParity, TrainingHealthy.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("The metadata.generation this status was computed from.")
  public Long observedGeneration;

  @JsonPropertyDescription("Replicas of the current attempt.")
  public Integer replicas;

  @JsonPropertyDescription("Replicas of the current attempt whose pod is running.")
  public Integer readyReplicas;

  @JsonPropertyDescription(
      "Gang restarts after a replica failed; they count against runPolicy.backoffLimit. Restarts"
          + " after a disruption or a resize are not counted here.")
  public int restarts;

  @JsonPropertyDescription(
      "Gang restarts after a pod was disrupted (its DisruptionTarget condition: preemption,"
          + " eviction, node drain, taint manager); they do not count against"
          + " runPolicy.backoffLimit.")
  public int disruptions;

  @JsonPropertyDescription(
      "The last "
          + RESTART_HISTORY_LIMIT
          + " gang restarts, oldest first, each with why (the deciding replica's reason): failures,"
          + " disruptions and resizes.")
  public List<RestartStatus> restartHistory;

  @JsonPropertyDescription("The current attempt, from 1; each gang restart starts the next.")
  public int attempt;

  @JsonPropertyDescription("When the first attempt started (RFC 3339).")
  public String startTime;

  @JsonPropertyDescription("When the job Succeeded or Failed (RFC 3339).")
  public String completionTime;

  @JsonPropertyDescription(
      "The sizing plan the pods were created from, with the FP32 plan beside it.")
  public SizingStatus sizing;

  @JsonPropertyDescription("Training progress as rank 0 last reported it.")
  public ProgressStatus progress;

  @JsonPropertyDescription("The newest complete checkpoint.")
  public CheckpointStatus lastCheckpoint;

  @JsonPropertyDescription("The last precision parity check.")
  public ParityStatus parity;

  @JsonPropertyDescription(
      "Training health (loss scale, skipped steps, loss, gradient underflow) as rank 0 last reported it.")
  public TrainingHealthStatus health;

  @JsonPropertyDescription(
      "Set once the job fell back to FP32 (spec.parity.onDivergence: fallback-fp32): from then on"
          + " it is sized and trained in FP32.")
  public PrecisionFallbackStatus precisionFallback;

  @JsonPropertyDescription(
      "Where rank 0 leaves the data of mpj report (on the checkpoint volume); set when the job has"
          + " a checkpoint volume.")
  public ReportDataStatus report;

  @JsonPropertyDescription("A human-readable summary of the current state, or of the error.")
  public String message;
}
