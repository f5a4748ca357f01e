package dev.mpj.operator.progress;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.mpj.api.CheckpointStatus;
import dev.mpj.api.ParityStatus;
import dev.mpj.api.ProgressStatus;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.TrainingHealthStatus;
import dev.mpj.operator.resources.JobNames;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;

/**
 * What rank 0's {@code GET /progress} answered, in the shape of the job's status. Any part may be
 * null.
 *
 * @param receivedAt when the operator read it
 */
public record ProgressReport(
    ProgressStatus progress,
    CheckpointStatus lastCheckpoint,
    ParityStatus parity,
    TrainingHealthStatus health,
    ReferenceParityStatus referenceParity,
    Instant receivedAt) {

  private static final ObjectMapper JSON =
      new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

  /**
   * The wire format: progress fields at the top level, lastCheckpoint, parity and health nested.
   */
  static final class Wire {
    public Long step;
    public Long totalSteps;
    public Double loss;
    public Double lossScale;
    public Long skippedSteps;
    public Double samplesPerSecond;
    public CheckpointStatus lastCheckpoint;
    public ParityStatus parity;
    public TrainingHealthStatus health;
    public ReferenceParityStatus referenceParity;
  }

  public static ProgressReport parse(String json, Instant receivedAt) throws IOException {
    Wire w = JSON.readValue(json, Wire.class);
    ProgressStatus p = new ProgressStatus();
    p.step = w.step;
    p.totalSteps = w.totalSteps;
    p.loss = finite(w.loss);
    p.lossScale = finite(w.lossScale);
    p.skippedSteps = w.skippedSteps;
    p.samplesPerSecond = finite(w.samplesPerSecond);
    p.updateTime = receivedAt.toString();
    return new ProgressReport(
        p, w.lastCheckpoint, w.parity, w.health, w.referenceParity, receivedAt);
  }

  /**
   * The final report of a terminated trainer: the progress JSON it left as its termination message,
   * which the kubelet copied into the container's status. Stamped with the container's finishedAt
   * (else {@code now}), so the status does not change on every reconcile. Empty while the container
   * runs, or when its message is not a progress report (a log tail, say).
   */
  public static Optional<ProgressReport> terminated(Pod pod, Instant now) {
    if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
      return Optional.empty();
    }
    for (ContainerStatus cs : pod.getStatus().getContainerStatuses()) {
      ContainerStateTerminated t = cs.getState() == null ? null : cs.getState().getTerminated();
      if (!JobNames.CONTAINER.equals(cs.getName())
          || t == null
          || t.getMessage() == null
          || !t.getMessage().strip().startsWith("{")) {
        continue;
      }
      try {
        ProgressReport report = parse(t.getMessage(), finishedAt(t, now));
        // A failed replica's message may carry only why it failed, no progress.
        return report.progress().step == null ? Optional.empty() : Optional.of(report);
      } catch (IOException e) {
        return Optional.empty();
      }
    }
    return Optional.empty();
  }

  /**
   * Which report the status shows: the trainer's final report is its last word and wins, unless a
   * poll came both later and further (it never does for the same container; it guards against a
   * stale message).
   */
  public static ProgressReport newest(ProgressReport polled, ProgressReport finalReport) {
    if (finalReport == null || polled == null) {
      return finalReport == null ? polled : finalReport;
    }
    boolean later = polled.receivedAt().isAfter(finalReport.receivedAt());
    return later && step(polled) > step(finalReport) ? polled : finalReport;
  }

  private static long step(ProgressReport r) {
    return r.progress() == null || r.progress().step == null ? -1 : r.progress().step;
  }

  private static Instant finishedAt(ContainerStateTerminated t, Instant now) {
    try {
      return t.getFinishedAt() == null ? now : Instant.parse(t.getFinishedAt());
    } catch (DateTimeParseException e) {
      return now;
    }
  }

  /** A diverged loss is NaN; the status holds numbers only, so it is left out. */
  private static Double finite(Double d) {
    return d == null || !Double.isFinite(d) ? null : d;
  }
}
