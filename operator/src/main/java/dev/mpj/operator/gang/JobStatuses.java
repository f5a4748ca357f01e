package dev.mpj.operator.gang;

import dev.mpj.api.JobFiles;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParityStatus;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.ReportDataStatus;
import dev.mpj.api.RestartStatus;
import dev.mpj.api.TrainingHealthStatus;
import dev.mpj.api.validation.Violation;
import dev.mpj.operator.progress.ProgressReport;
import dev.mpj.operator.resources.JobNames;
import dev.mpj.operator.resources.ReferenceRun;
import dev.mpj.operator.sizing.SizingPlan;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The status a verdict leads to: phase, kstatus conditions (Ready, Reconciling, Stalled) and the
 * domain conditions, counters and progress. A pure function of the previous status.
 */
public final class JobStatuses {
  public static final String READY = "Ready";
  public static final String RECONCILING = "Reconciling";
  public static final String STALLED = "Stalled";
  public static final String RUNNING = "Running";
  public static final String RESTARTING = "Restarting";
  public static final String SUCCEEDED = "Succeeded";
  public static final String FAILED = "Failed";
  public static final String SUSPENDED = "Suspended";
  public static final String PRECISION_PARITY = "PrecisionParity";
  public static final String WAITING_FOR_GPUS = "WaitingForGpus";
  public static final String TRAINING_HEALTHY = "TrainingHealthy";

  private JobStatuses() {}

  /**
   * @param plan the sizing of a new attempt ({@link Verdict.Start} that is new), else null
   * @param report rank 0's latest progress (its final report in the reconcile that ends an
   *     attempt), or null
   */
  public static MixedPrecisionJobStatus next(
      MixedPrecisionJob job, Verdict verdict, SizingPlan plan, ProgressReport report, Instant now) {
    MixedPrecisionJobStatus s = copy(job.getStatus());
    Long generation = job.getMetadata().getGeneration();
    s.observedGeneration = generation;
    Conditions c = new Conditions(s.conditions, now.toString(), generation);
    if (s.phase == null) {
      s.phase = JobPhase.Pending;
    }

    if (verdict instanceof Verdict.InvalidSpec v) {
      s.message =
          "invalid spec: "
              + v.violations().stream().map(Violation::toString).collect(Collectors.joining("; "));
      c.kstatus(false, "InvalidSpec", false, true, "InvalidSpec", s.message);
    } else if (verdict instanceof Verdict.Finished) {
      // Nothing changes once finished; only observedGeneration follows the spec.
    } else if (verdict instanceof Verdict.Fail v) {
      s.phase = JobPhase.Failed;
      s.completionTime = now.toString();
      s.readyReplicas = 0;
      s.message = v.message();
      c.kstatus(false, v.reason(), false, true, v.reason(), v.message());
      c.set(FAILED, true, v.reason(), v.message());
      c.set(RUNNING, false, v.reason(), "");
      c.set(RESTARTING, false, v.reason(), "");
    } else if (verdict instanceof Verdict.Succeed v) {
      s.phase = JobPhase.Succeeded;
      s.completionTime = now.toString();
      s.readyReplicas = 0;
      s.message = "training finished: " + v.message();
      c.kstatus(true, "Succeeded", false, false, "Succeeded", s.message);
      c.set(SUCCEEDED, true, "Succeeded", s.message);
      c.set(RUNNING, false, "Succeeded", "");
      c.set(RESTARTING, false, "Succeeded", "");
    } else if (verdict instanceof Verdict.Suspend v) {
      s.phase = JobPhase.Suspended;
      s.readyReplicas = 0;
      s.message = v.message();
      c.kstatus(false, v.reason(), false, false, v.reason(), s.message);
      c.set(SUSPENDED, true, v.reason(), s.message);
      c.set(RUNNING, false, v.reason(), "");
      c.set(RESTARTING, false, v.reason(), "");
    } else if (verdict instanceof Verdict.Restart v) {
      s.phase = JobPhase.Restarting;
      s.restartHistory = history(s.restartHistory, v, now);
      s.attempt = v.nextAttempt();
      if (v.failure()) {
        s.restarts += 1;
      }
      if (v.disrupted()) {
        s.disruptions += 1;
      }
      s.readyReplicas = 0;
      s.message = v.message() + "; restarting the gang as attempt " + v.nextAttempt() + fromStep(s);
      c.kstatus(false, v.reason(), true, false, v.reason(), s.message);
      c.set(RESTARTING, true, v.reason(), s.message);
      c.set(RUNNING, false, v.reason(), "");
    } else if (verdict instanceof Verdict.AwaitStop v) {
      s.message = "waiting for the pods of the previous attempt to stop";
      c.kstatus(false, "Stopping", true, false, "Stopping", s.message);
    } else if (verdict instanceof Verdict.Start v) {
      start(s, c, v, plan, now);
    } else if (verdict instanceof Verdict.Observe v) {
      s.phase = v.phase();
      s.attempt = v.attempt();
      startedBy(s, now);
      s.replicas = v.replicas();
      s.readyReplicas = v.readyReplicas();
      if (v.phase() == JobPhase.Running) {
        s.message = "training with " + v.replicas() + " replicas (attempt " + v.attempt() + ")";
        c.kstatus(true, "Running", false, false, "Running", s.message);
        c.set(RUNNING, true, "Running", s.message);
        c.set(RESTARTING, false, "Running", "");
        c.set(SUSPENDED, false, "Running", "");
      } else {
        // None running yet reads as the start did, so that the status is not written again
        // for its words alone (one write fewer per job and attempt).
        s.message =
            v.readyReplicas() == 0
                ? starting(v.replicas(), v.attempt())
                : v.readyReplicas()
                    + " of "
                    + v.replicas()
                    + " replicas running (attempt "
                    + v.attempt()
                    + ")";
        c.kstatus(false, "Starting", true, false, "Starting", s.message);
        c.set(SUSPENDED, false, "Started", "");
      }
    }
    if (report != null && !(verdict instanceof Verdict.Finished)) {
      s.progress = report.progress();
      if (report.lastCheckpoint() != null) {
        s.lastCheckpoint = report.lastCheckpoint();
      }
      if (report.parity() != null) {
        ReferenceParityStatus reference = s.parity == null ? null : s.parity.reference;
        s.parity = report.parity();
        s.parity.reference = reference;
        if (report.parity().withinBound != null) {
          boolean ok = report.parity().withinBound;
          c.set(
              PRECISION_PARITY,
              ok,
              ok ? "WithinBound" : "GapExceeded",
              "relative gap " + report.parity().relativeGap + " at step " + report.parity().step);
        }
      }
      if (report.health() != null && report.health().healthy != null) {
        s.health = report.health();
        trainingHealthy(c, report.health());
      }
      referenceParity(s, c, job, report.referenceParity());
    }
    if (!(verdict instanceof Verdict.InvalidSpec)) {
      s.report = reportData(job);
    }
    if (verdict instanceof Verdict.Restart v
        && ReferenceParity.REFERENCE_FINISHED.equals(v.reason())) {
      // The reference's progress and checkpoints are not the job's: its own run starts afresh.
      s.parity = s.parity == null ? new ParityStatus() : s.parity;
      s.parity.reference =
          ReferenceParity.finished(s.parity.reference, job.getSpec().parity.reference.steps);
      s.progress = null;
      s.lastCheckpoint = null;
      s.health = null;
      s.message = v.message() + "; starting attempt " + v.nextAttempt();
    }
    if (verdict instanceof Verdict.Restart v && Divergence.FALLBACK_REASON.equals(v.reason())) {
      // After the report: rank 0's final report says at which step and why.
      s.precisionFallback = Divergence.fallback(s.health, v.nextAttempt(), v.message(), now);
    }
    return s;
  }

  /**
   * Where mpj report's data is: on the checkpoint volume, when the job has one (an emptyDir goes
   * with the pod).
   */
  static ReportDataStatus reportData(MixedPrecisionJob job) {
    var volume = job.getSpec().checkpoint == null ? null : job.getSpec().checkpoint.volume;
    if (volume == null) {
      return null;
    }
    ReportDataStatus r = new ReportDataStatus();
    r.claimName =
        volume.claimName != null && !volume.claimName.isBlank()
            ? volume.claimName
            : JobNames.checkpointClaim(job);
    r.path = ReportDataStatus.JOB_PATH;
    boolean reference = job.getSpec().parity != null && job.getSpec().parity.reference != null;
    r.referencePath = reference ? ReportDataStatus.REFERENCE_PATH : null;
    r.command =
        "copy "
            + (reference ? "both folders" : "the folder")
            + " from the claim, then: mpj report "
            + job.getMetadata().getName()
            + " --data DIR (DIR/report"
            + (reference ? ", DIR/" + ReportDataStatus.REFERENCE_PATH : "")
            + ")";
    return r;
  }

  /**
   * status.parity.reference from rank 0's report, and the PrecisionParity condition once compared:
   * True (ReferenceParityPassed) or False (ParityExceeded) with the comparison in words.
   */
  private static void referenceParity(
      MixedPrecisionJobStatus s, Conditions c, MixedPrecisionJob job, ReferenceParityStatus r) {
    if (r == null || job.getSpec().parity == null || job.getSpec().parity.reference == null) {
      return;
    }
    ReferenceParityStatus before = s.parity == null ? null : s.parity.reference;
    ReferenceParityStatus after = ReferenceParity.record(before, r, ReferenceRun.running(job));
    if (after == before) {
      return;
    }
    s.parity = s.parity == null ? new ParityStatus() : s.parity;
    s.parity.reference = after;
    if (ReferenceParityStatus.COMPARED.equals(after.phase)) {
      boolean ok = Boolean.TRUE.equals(after.withinBounds);
      c.set(
          PRECISION_PARITY,
          ok,
          ok ? ReferenceParity.PASSED : ReferenceParity.EXCEEDED,
          after.message == null ? "" : after.message);
    }
  }

  /**
   * TrainingHealthy: True (reason Healthy) while rank 0 reports no reason, else False with the
   * first reason it gives (LossScaleAtMinimum, SkippedStepsHigh, NonFiniteLoss, GradientsUnderflow)
   * and its words.
   */
  static void trainingHealthy(Conditions c, TrainingHealthStatus health) {
    boolean healthy = health.healthy;
    String reason =
        healthy || health.reasons == null || health.reasons.isEmpty()
            ? (healthy ? "Healthy" : "Unhealthy")
            : health.reasons.get(0);
    String message = (health.message == null ? "" : health.message) + " (step " + health.step + ")";
    c.set(TRAINING_HEALTHY, healthy, reason, message);
  }

  private static void start(
      MixedPrecisionJobStatus s, Conditions c, Verdict.Start v, SizingPlan plan, Instant now) {
    s.attempt = v.attempt();
    if (v.isNew()) {
      if (plan != null) {
        s.sizing = plan.status();
      }
      if (plan != null && plan.waitingForGpus()) {
        // Capacity comes and goes: the job waits, as a pod waits for a node, and is not failed.
        s.message = "waiting for GPUs: " + plan.message();
        c.kstatus(false, WAITING_FOR_GPUS, true, false, WAITING_FOR_GPUS, s.message);
        return;
      }
      if (plan == null || !plan.fits()) {
        // Only a spec change can fix this: Stalled, so that GitOps tools report it.
        String reason = plan == null ? "DoesNotFit" : plan.reason();
        s.message = "does not fit: " + (plan == null ? "no sizing plan" : plan.message());
        c.kstatus(false, reason, false, true, reason, s.message);
        return;
      }
      if (v.resumed()) {
        s.restartHistory = resumed(s, v, plan.replicas(), now);
      }
      s.replicas = plan.replicas();
      if (s.startTime == null || v.resumed()) {
        // As for a Kubernetes Job, the deadline counts from the start or from the resume.
        s.startTime = now.toString();
      }
    } else {
      startedBy(s, now);
    }
    s.readyReplicas = 0;
    if (s.phase != JobPhase.Restarting) {
      s.phase = JobPhase.Pending;
    }
    s.message = starting(v.isNew() ? s.replicas : v.missingRanks().size(), v.attempt());
    c.kstatus(false, "Starting", true, false, "Starting", s.message);
    c.set(SUSPENDED, false, "Started", "");
  }

  private static String starting(int pods, int attempt) {
    return "starting " + pods + " pods of attempt " + attempt;
  }

  /** Resuming after a suspension: why the last attempt was suspended joins the history. */
  public static final String SUSPENDED_RESTART = "Suspended";

  private static List<RestartStatus> resumed(
      MixedPrecisionJobStatus s, Verdict.Start v, int replicas, Instant now) {
    Condition suspended =
        s.conditions.stream()
            .filter(x -> SUSPENDED.equals(x.getType()) && "True".equals(x.getStatus()))
            .findFirst()
            .orElse(null);
    RestartStatus restart = new RestartStatus();
    restart.attempt = v.attempt() - 1;
    restart.time = now.toString();
    restart.reason = SUSPENDED_RESTART;
    restart.suspension = suspended == null ? null : suspended.getReason();
    restart.message =
        (suspended == null || suspended.getMessage() == null || suspended.getMessage().isBlank()
                ? "suspended"
                : suspended.getMessage())
            + "; resumed as attempt "
            + v.attempt()
            + " with "
            + replicas
            + (replicas == 1 ? " replica" : " replicas");
    return limited(s.restartHistory, restart);
  }

  /**
   * Pods of an attempt exist but no start time was recorded: the status write of the reconcile that
   * created them failed (an API-server error, a lost response), and the reconciles after it no
   * longer see a new attempt. The job started no later than now.
   */
  private static void startedBy(MixedPrecisionJobStatus s, Instant now) {
    if (s.startTime == null) {
      s.startTime = now.toString();
    }
  }

  /** The history with this restart at its end, the oldest dropped beyond the limit. */
  private static List<RestartStatus> history(
      List<RestartStatus> before, Verdict.Restart v, Instant now) {
    RestartStatus restart = new RestartStatus();
    restart.attempt = v.nextAttempt() - 1;
    restart.time = now.toString();
    restart.reason = v.reason();
    restart.message = v.message();
    restart.disruption = v.disruption();
    return limited(before, restart);
  }

  private static List<RestartStatus> limited(List<RestartStatus> before, RestartStatus restart) {
    List<RestartStatus> history = new ArrayList<>(before == null ? List.of() : before);
    history.add(restart);
    int excess = history.size() - MixedPrecisionJobStatus.RESTART_HISTORY_LIMIT;
    return excess > 0 ? new ArrayList<>(history.subList(excess, history.size())) : history;
  }

  private static String fromStep(MixedPrecisionJobStatus s) {
    return s.lastCheckpoint != null && s.lastCheckpoint.step != null
        ? " from the checkpoint of step " + s.lastCheckpoint.step
        : " from the newest checkpoint, if any";
  }

  static MixedPrecisionJobStatus copy(MixedPrecisionJobStatus status) {
    if (status == null) {
      return new MixedPrecisionJobStatus();
    }
    MixedPrecisionJobStatus copy =
        JobFiles.yamlMapper().convertValue(status, MixedPrecisionJobStatus.class);
    if (copy.conditions == null) {
      copy.conditions = new ArrayList<>();
    }
    return copy;
  }

  /**
   * Sets standard conditions, keeping lastTransitionTime while a condition's status stays the same.
   */
  static final class Conditions {
    private final List<Condition> list;
    private final String now;
    private final Long generation;

    Conditions(List<Condition> list, String now, Long generation) {
      this.list = list;
      this.now = now;
      this.generation = generation;
    }

    void kstatus(
        boolean ready,
        String readyReason,
        boolean reconciling,
        boolean stalled,
        String reason,
        String message) {
      set(READY, ready, readyReason, message);
      set(RECONCILING, reconciling, reason, reconciling ? message : "");
      set(STALLED, stalled, reason, stalled ? message : "");
    }

    void set(String type, boolean value, String reason, String message) {
      set(type, value ? "True" : "False", reason, message);
    }

    /** A condition whose status is neither True nor False: there is nothing to judge by. */
    void unknown(String type, String reason, String message) {
      set(type, "Unknown", reason, message);
    }

    private void set(String type, String status, String reason, String message) {
      Condition old = list.stream().filter(x -> type.equals(x.getType())).findFirst().orElse(null);
      String since =
          old != null && status.equals(old.getStatus()) && old.getLastTransitionTime() != null
              ? old.getLastTransitionTime()
              : now;
      Condition next =
          new ConditionBuilder()
              .withType(type)
              .withStatus(status)
              .withReason(reason)
              .withMessage(message == null ? "" : message)
              .withObservedGeneration(generation)
              .withLastTransitionTime(since)
              .build();
      if (old != null) {
        list.set(list.indexOf(old), next);
      } else {
        list.add(next);
      }
    }
  }
}
