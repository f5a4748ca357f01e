package dev.mpj.operator.gang;

import dev.mpj.api.Crd;
import dev.mpj.operator.resources.JobNames;
import dev.mpj.operator.resources.Labels;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Map;

/**
 * One replica's pod as the gang logic sees it: which rank of which attempt, and how it is doing.
 *
 * @param exitCode the trainer's exit code once it terminated, else null
 * @param reason why the pod ended when Kubernetes says (Evicted, OOMKilled, ...), else null
 * @param deleting the pod is being deleted (a drain, a user, or the operator itself)
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
    boolean deleting) {

  public static Replica of(Pod pod) {
    Map<String, String> labels = pod.getMetadata().getLabels();
    Map<String, String> annotations = pod.getMetadata().getAnnotations();
    Integer exitCode = null;
    String reason = null;
    String phase = null;
    if (pod.getStatus() != null) {
      phase = pod.getStatus().getPhase();
      reason = pod.getStatus().getReason();
      for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
        if (JobNames.CONTAINER.equals(cs.getName())
            && cs.getState() != null
            && cs.getState().getTerminated() != null) {
          exitCode = cs.getState().getTerminated().getExitCode();
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
        pod.getMetadata().getDeletionTimestamp() != null);
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

  /** What happened to it, in a user's words. */
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
