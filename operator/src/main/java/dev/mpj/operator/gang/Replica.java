package dev.mpj.operator.gang;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.Crd;
import dev.mpj.api.TrainerContract;
import dev.mpj.operator.resources.JobNames;
import dev.mpj.operator.resources.Labels;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * One replica's pod as the gang logic sees it: which rank of which attempt, and how it is doing.
 *
 * @param exitCode the trainer's exit code once it terminated, else null
 * @param reason why the pod ended when Kubernetes says (Evicted, OOMKilled, ...), else null
 * @param deleting the pod is being deleted (a drain, a user, or the operator itself)
 * @param trainerReason why the trainer failed, in its own words (the {@code reason} of its
 *     termination message), else null
 * @param disruption the reason of the pod's {@code DisruptionTarget} condition when Kubernetes
 *     disrupted it (PreemptionByScheduler, EvictionByEvictionAPI, DeletionByTaintManager,
 *     TerminationByKubelet), else null
 */
public record Replica(
    String name,
    int rank,
    int attempt,
    int worldSize,
    String shape,
    String phase,
    Integer exitCode,
    String reason,
    boolean deleting,
    String trainerReason,
    String disruption) {

  /** The pod condition Kubernetes sets on a pod it is about to disrupt. */
  public static final String DISRUPTION_TARGET = "DisruptionTarget";

  /** A status message holds at most this much of a trainer's reason. */
  static final int REASON_MAX_CHARS = 1024;

  private static final ObjectMapper JSON = new ObjectMapper();

  public Replica(
      String name,
      int rank,
      int attempt,
      int worldSize,
      String shape,
      String phase,
      Integer exitCode,
      String reason,
      boolean deleting) {
    this(name, rank, attempt, worldSize, shape, phase, exitCode, reason, deleting, null, null);
  }

  public Replica(
      String name,
      int rank,
      int attempt,
      int worldSize,
      String shape,
      String phase,
      Integer exitCode,
      String reason,
      boolean deleting,
      String trainerReason) {
    this(
        name,
        rank,
        attempt,
        worldSize,
        shape,
        phase,
        exitCode,
        reason,
        deleting,
        trainerReason,
        null);
  }

  public static Replica of(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    Integer exitCode = null;
    String reason = null;
    String phase = null;
    String trainerReason = null;
    String disruption = null;
    if (pod.getStatus() != null) {
      disruption = disruption(pod.getStatus().getConditions());
      phase = pod.getStatus().getPhase();
      reason = pod.getStatus().getReason();
      for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
        if (JobNames.CONTAINER.equals(cs.getName())
            && cs.getState() != null
            && cs.getState().getTerminated() != null) {
          exitCode = cs.getState().getTerminated().getExitCode();
          trainerReason = trainerReason(cs.getState().getTerminated().getMessage());
          if (reason == null) {
            reason = cs.getState().getTerminated().getReason();
          }
        }
      }
    }
    return new Replica(
        pod.getMetadata().getName(),
        number(labels, Crd.LABEL_REPLICA_INDEX, -1),
        number(labels, Crd.LABEL_ATTEMPT, 0),
        number(annotations, Labels.WORLD_SIZE, 0),
        annotations == null ? null : annotations.get(Labels.SHAPE),
        phase == null ? "Pending" : phase,
        exitCode,
        reason,
        pod.getMetadata().getDeletionTimestamp() != null,
        trainerReason,
        disruption);
  }

  /** The reason of a true DisruptionTarget condition, or null when there is none. */
  static String disruption(List<PodCondition> conditions) {
    if (conditions == null) {
      return null;
    }
    return conditions.stream()
        .filter(c -> DISRUPTION_TARGET.equals(c.getType()) && "True".equals(c.getStatus()))
        .map(
            c ->
                c.getReason() == null || c.getReason().isBlank()
                    ? DISRUPTION_TARGET
                    : c.getReason())
        .findFirst()
        .orElse(null);
  }

  /** Kubernetes disrupted it: the gang restarts without spending the backoff limit. */
  public boolean disrupted() {
    return disruption != null;
  }

  /**
   * The {@code reason} the trainer left in its termination message, on one line; null when the
   * message is none of the trainer's (empty, a log tail) or says no reason.
   */
  static String trainerReason(String terminationMessage) {
    if (terminationMessage == null || !terminationMessage.strip().startsWith("{")) {
      return null;
    }
    try {
      JsonNode reason = JSON.readTree(terminationMessage).path("reason");
      if (!reason.isTextual() || reason.asText().isBlank()) {
        return null;
      }
      String line = reason.asText().strip().replaceAll("\\s*\\R\\s*", " ");
      return line.length() <= REASON_MAX_CHARS
          ? line
          : line.substring(0, REASON_MAX_CHARS - 3) + "...";
    } catch (IOException e) {
      return null;
    }
  }

  /** It failed because another replica did: its reason tells what it saw, not the cause. */
  public boolean peerFailed() {
    return exitCode != null && exitCode == TrainerContract.EXIT_REPLICAS_FAILED;
  }

  public boolean failed() {
    return "Failed".equals(phase);
  }

  public boolean succeeded() {
    return "Succeeded".equals(phase);
  }

  public boolean running() {
    return "Running".equals(phase);
  }

  public boolean finished() {
    return failed() || succeeded();
  }

  /** Still running or about to: neither finished nor being deleted. */
  public boolean active() {
    return !finished() && !deleting;
  }

  /** What happened to it, in a user's words, without the trainer's reason. */
  public String failureDescription() {
    StringBuilder s = new StringBuilder("pod ").append(name);
    if (deleting && !failed()) {
      return s.append(" was deleted").toString();
    }
    s.append(" failed");
    if (exitCode != null) {
      s.append(": exit code ").append(exitCode);
    }
    if (reason != null) {
      s.append(exitCode != null ? " (" : ": ").append(reason).append(exitCode != null ? ")" : "");
    }
    return s.toString();
  }

  private static int number(Map<String, String> map, String key, int otherwise) {
    if (map == null || map.get(key) == null) {
      return otherwise;
    }
    try {
      return Integer.parseInt(map.get(key));
    } catch (NumberFormatException e) {
      return otherwise;
    }
  }
}
